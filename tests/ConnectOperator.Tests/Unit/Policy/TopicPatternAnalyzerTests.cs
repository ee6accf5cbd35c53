using System.Text.RegularExpressions;
using ConnectOperator.Policy;
using static ConnectOperator.Policy.TopicPatternAnalyzer;

namespace ConnectOperator.Tests.Unit.Policy;

/// <summary>The topic-pattern analyser: a pure decision over (pattern, prefixes).</summary>
public class TopicPatternAnalyzerTests
{
    private static readonly string[] Finance = { "finance." };
    private static readonly string[] FinanceAndHr = { "finance.", "hr." };

    [TestCase(@"finance\..*")]
    [TestCase(@"^finance\..*$")]
    [TestCase(@"^finance\.orders\..*")]
    [TestCase(@"^finance\.(orders|payments)$")]
    [TestCase(@"finance\.orders|finance\.payments")]
    [TestCase(@"(finance\.a|finance\.b)(x|y)*")]
    [TestCase(@"(?:finance)\.[a-z]+")]
    [TestCase(@"(?<dept>finance)\.x")]
    [TestCase(@"finance[.]x")]
    [TestCase(@"financ[e]\.x+?")]
    [TestCase(@"\Qfinance.\E.*")]
    [TestCase(@"finance\x2e.*")]
    [TestCase(@"finance\u002e.*")]
    [TestCase(@"finance\.\d{2,4}")]
    [TestCase(@"finance\.x{0,3}")]
    [TestCase(@"\bfinance\.x\b")]
    [TestCase(@"finance\..*|finance\..+|finance\.x?")]
    [TestCase(@"((finance\.))((a|b|c)|(d))")]
    [TestCase(@"(finance\.){1,3}x")]
    [TestCase(@"(fi)(nance)\.(x)")]
    [TestCase(@"finance\.(?>a|b)")]
    [TestCase(@"finance\.x*+")]
    public void Patterns_whose_every_match_starts_with_the_prefix_are_allowed(string pattern)
        => Assert.That(Analyze(pattern, Finance), Is.EqualTo(new Result(Outcome.Allowed)));

    [TestCase(@"finance\.orders|hr\..*", "hr.")]
    [TestCase(@"finance\..*|.*", "")]
    [TestCase(@"^finance\.x$|^hr\.salaries$", "hr.salar")]
    [TestCase(@"fin.*", "fin")]
    [TestCase(@".*", "")]
    [TestCase(@"finance.orders", "finance…")]   // an unescaped dot matches any character
    [TestCase(@"financex?", "finance")]
    [TestCase(@"finance", "finance")]
    [TestCase(@"(finance\.x)?", "")]
    [TestCase(@"(finance\.x)*", "")]
    [TestCase(@"finance\.x|(hr|ops)\.y", "hr.y")]
    [TestCase(@"(finance|hr)\..*", "hr.")]
    [TestCase(@"[fh]inance\..*", "hinance.")]
    [TestCase(@"[^x]inance\..*", "…inance.")]
    [TestCase(@"\winance\..*", "…inance.")]
    [TestCase(@"finance\.x|", "")]
    [TestCase(@"|finance\.x", "")]
    [TestCase(@"(|finance)\.x", ".x")]
    [TestCase(@"finance\.x|(a(b|c(d|hr\.)))", "ab")]
    [TestCase(@"^.{0,3}finance\..*", "…finance")]      // no leading character passes, one does not
    [TestCase(@"\Qhr.\E.*", "hr.")]
    [TestCase(@"finance[.-]x", "finance-")]
    [TestCase(@"FINANCE\..*", "FINANCE.")]
    [TestCase(@"finance\.x{0}|hr\.y{2}", "hr.yy")]
    public void Patterns_that_can_match_outside_the_prefix_are_refused_with_an_example(string pattern, string witness)
    {
        var r = Analyze(pattern, Finance);
        Assert.That(r.Outcome, Is.EqualTo(Outcome.Escapes), r.ToString());
        Assert.That(r.Witness, Is.EqualTo(witness));
    }

    [TestCase(@"(finance|hr)\..*")]
    [TestCase(@"[fh][ir][n.].*")]   // f+i+n / h+r+. cover; f+r, h+i … do not
    public void Several_prefixes_cover_a_pattern_alternative_by_alternative(string pattern)
    {
        var r = Analyze(pattern, FinanceAndHr);
        if (pattern.StartsWith('[')) Assert.That(r.Outcome, Is.EqualTo(Outcome.Escapes));
        else Assert.That(r.Outcome, Is.EqualTo(Outcome.Allowed), r.ToString());
    }

    [Test]
    public void A_small_class_is_split_per_character()
        => Assert.That(Analyze(@"[fh](inance|r)\..*", new[] { "finance.", "fr.", "hinance.", "hr." }).Outcome, Is.EqualTo(Outcome.Allowed));

    [TestCase(@"(?i)finance\..*", "inline flags")]
    [TestCase(@"(?i:finance)\..*", "inline flags")]
    [TestCase(@"(?=finance)\w+", "lookaround")]
    [TestCase(@"(?!hr)finance\..*", "lookaround")]
    [TestCase(@"(?<=x)finance", "lookaround")]
    [TestCase(@"(finance)\.\1", "back-references")]
    [TestCase(@"(?<d>finance)\.\k<d>", "back-references")]
    [TestCase(@"finance\.(x", "not closed")]
    [TestCase(@"finance\.x)", "unbalanced ')'")]
    [TestCase(@"finance\.[x", "not closed")]
    [TestCase(@"*finance", "dangling quantifier")]
    [TestCase(@"finance\.x**", "follows another quantifier")]
    [TestCase(@"finance\.x{a}", "not a quantifier")]
    [TestCase(@"finance\.x{3,1}", "not a quantifier")]
    [TestCase(@"finance\.\y", "unknown escape")]
    [TestCase(@"finance\.\X", "grapheme")]
    [TestCase(@"finance\.[z-a]", "illegal character range")]
    [TestCase("finance\\", "lone backslash")]
    public void Patterns_that_cannot_be_decided_are_refused_with_the_reason(string pattern, string reason)
    {
        var r = Analyze(pattern, Finance);
        Assert.That(r.Outcome, Is.EqualTo(Outcome.Undecidable));
        Assert.That(r.Reason, Does.Contain(reason));
    }

    [Test]
    public void An_explosion_of_alternatives_is_refused_not_computed()
    {
        var pattern = string.Concat(Enumerable.Repeat("(a|b|c|d)", 12));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var r = Analyze(pattern, new[] { "abcdabcdabcd" });
        Assert.That(r.Outcome, Is.EqualTo(Outcome.Undecidable));
        Assert.That(r.Reason, Does.Contain("too many alternatives"));
        Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)));
    }

    [Test]
    public void Nested_quantifiers_terminate()
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        Assert.That(Analyze(@"finance\.((a*)*|(b?)+){5,}(c{0,1000}){1000}", Finance).Outcome, Is.EqualTo(Outcome.Allowed));
        Assert.That(Analyze(@"((a*)*)*", Finance).Outcome, Is.EqualTo(Outcome.Escapes));
        Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)));
    }

    [Test]
    public void No_prefix_allows_no_pattern()
        => Assert.That(Analyze(@"finance\..*", Array.Empty<string>()).Outcome, Is.EqualTo(Outcome.Escapes));

    [Test]
    public void The_example_in_refusals_is_itself_allowed()
    {
        Assert.That(ExampleFor(Finance), Is.EqualTo(@"^finance\.(orders|payments)$"));
        Assert.That(Analyze(ExampleFor(Finance), Finance).Allowed);
        Assert.That(Analyze(ExampleFor(new[] { "a-b.c." }), new[] { "a-b.c." }).Allowed);
    }

    /// <summary>
    /// Random patterns over a small alphabet: whenever the analyser allows one, no string the regex engine matches
    /// (among all short strings over the alphabet) falls outside the prefix. Soundness, checked by brute force.
    /// </summary>
    [Test]
    public void Allowed_random_patterns_never_match_outside_the_prefix()
    {
        var rng = new Random(16);
        var atoms = new[] { "a", "b", @"\.", ".", "[ab]", "(a|b)", "(ab|.)", "a?", "b*", "(a|)", "[^a]", "a{1,2}", "(\\.|a)+", "^", "$" };
        var alphabet = new[] { 'a', 'b', '.', 'c' };
        var strings = new List<string> { "" };
        for (var len = 1; len <= 5; len++)
            strings.AddRange(strings.Where(s => s.Length == len - 1).SelectMany(s => alphabet.Select(c => s + c)).ToList());
        var prefixes = new[] { "ab." };
        int allowed = 0, refused = 0;
        for (var i = 0; i < 3000; i++)
        {
            var parts = Enumerable.Range(0, rng.Next(1, 6)).Select(_ => atoms[rng.Next(atoms.Length)]);
            var pattern = string.Concat(parts);
            if (rng.Next(4) == 0) pattern = "ab\\." + pattern;
            if (rng.Next(5) == 0) pattern += "|" + atoms[rng.Next(atoms.Length)];
            var r = Analyze(pattern, prefixes);
            if (!r.Allowed) { refused++; continue; }
            allowed++;
            var re = new Regex("^(?:" + pattern + ")$");
            foreach (var s in strings)
                if (re.IsMatch(s)) Assert.That(s, Does.StartWith("ab."), $"{pattern} was allowed but matches {s}");
        }
        Assert.That(allowed, Is.GreaterThan(50), "the generator must produce allowed patterns too");
        Assert.That(refused, Is.GreaterThan(50));
    }
}
