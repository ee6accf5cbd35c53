using System.Globalization;
using System.Text;

namespace ConnectOperator.Policy;

/// <summary>
/// Decides whether every topic a Java regular expression can match (Kafka Connect matches the whole topic name, as
/// <c>Pattern.matcher(topic).matches()</c>) starts with one of a department's prefixes.
/// <para>
/// The pattern is parsed (alternatives at every level, groups, quantifiers, anchors, escapes, character classes) and
/// the first <c>k</c> characters of every string it can match are enumerated as sequences of character sets, where
/// <c>k</c> is the longest prefix. Whatever the analysis cannot follow exactly is widened to "any character", so a
/// widened pattern can only be refused, never wrongly admitted. Constructs that cannot be widened soundly this way
/// (inline flags such as <c>(?i)</c>, lookarounds, back-references) make the pattern undecidable, and it is refused
/// with a way to write it instead.
/// </para>
/// </summary>
public static class TopicPatternAnalyzer
{
    public enum Outcome { Allowed, Escapes, Undecidable }

    /// <param name="Witness">For <see cref="Outcome.Escapes"/>: the start of a topic the pattern matches that no prefix covers (<c>…</c> for "any character").</param>
    /// <param name="Reason">For <see cref="Outcome.Undecidable"/>: what could not be analysed.</param>
    public sealed record Result(Outcome Outcome, string? Witness = null, string? Reason = null)
    {
        public bool Allowed => Outcome == Outcome.Allowed;
    }

    // Enough for any pattern a person writes; a pattern that needs more is refused rather than analysed slowly inside
    // the API server's admission timeout.
    private const int MaxPatterns = 2048;
    private const int MaxLength = 8192;
    private const int MaxFiniteSet = 128;

    public static Result Analyze(string regex, IReadOnlyList<string> prefixes)
    {
        if (regex.Length > MaxLength) return new Result(Outcome.Undecidable, Reason: $"it is longer than {MaxLength} characters");
        Node root;
        try { root = new Parser(regex).ParseAll(); }
        catch (UndecidableException e) { return new Result(Outcome.Undecidable, Reason: e.Message); }
        if (prefixes.Count == 0) return new Result(Outcome.Escapes, Witness: "");
        var k = prefixes.Max(p => p.Length);
        List<Pat> patterns;
        try { patterns = Expand(root, k); }
        catch (UndecidableException e) { return new Result(Outcome.Undecidable, Reason: e.Message); }
        foreach (var p in patterns)
        {
            var budget = MaxPatterns;
            var bad = FirstUncovered(p.Chars, p.Truncated, prefixes, ref budget);
            if (budget <= 0) return new Result(Outcome.Undecidable, Reason: "it has too many alternatives to check");
            if (bad != null) return new Result(Outcome.Escapes, Witness: bad);
        }
        return new Result(Outcome.Allowed);
    }

    /// <summary>
    /// An example pattern for a refusal message: the first prefix, escaped and anchored, e.g. <c>^finance\.(orders|payments)$</c>.
    /// </summary>
    public static string ExampleFor(IReadOnlyList<string> prefixes)
        => "^" + EscapeLiteral(prefixes.Count > 0 ? prefixes[0] : "finance.") + "(orders|payments)$";

    public static string EscapeLiteral(string s)
    {
        var sb = new StringBuilder();
        foreach (var c in s)
        {
            if ("\\.[](){}*+?|^$".Contains(c)) sb.Append('\\');
            sb.Append(c);
        }
        return sb.ToString();
    }

    // ---- the model: a regex as a tree; a match start as a list of character sets.

    private sealed class UndecidableException(string message) : Exception(message);

    /// <summary>A set of characters: finite (small) or any character.</summary>
    private sealed class CharSet
    {
        public static readonly CharSet Any = new(null);
        public SortedSet<char>? Chars { get; }
        private CharSet(SortedSet<char>? chars) => Chars = chars;
        public static CharSet Of(char c) => new(new SortedSet<char> { c });
        public static CharSet Of(SortedSet<char> chars) => chars.Count > MaxFiniteSet ? Any : new(chars);
        public bool IsSingle(char c) => Chars is { Count: 1 } s && s.Min == c;
        // Tagged so that "any character" and a literal can never share a key.
        public string Key => Chars is null ? "*" : Chars.Count == 1 ? "=" + Chars.Min : "[" + new string(Chars.ToArray()) + "]";
        public string Show => Chars is null ? "…" : Chars.Min.ToString();
    }

    private abstract record Node;
    private sealed record Empty : Node;
    private sealed record Chars(CharSet Set) : Node;
    private sealed record Seq(List<Node> Items) : Node;
    private sealed record Alt(List<Node> Options) : Node;
    private sealed record Repeat(Node Item, int Min, int? Max) : Node;

    private sealed record Pat(CharSet[] Chars, bool Truncated)
    {
        public string Key => string.Join("\u0000", Chars.Select(c => c.Key)) + (Truncated ? "\u0000+" : "");
    }

    // ---- parsing (java.util.regex syntax)

    private sealed class Parser(string s)
    {
        private int _i;

        public Node ParseAll()
        {
            var n = ParseAlt();
            if (_i < s.Length) throw new UndecidableException($"unbalanced ')' at position {_i + 1}");
            return n;
        }

        private Node ParseAlt()
        {
            var options = new List<Node> { ParseSeq() };
            while (_i < s.Length && s[_i] == '|')
            {
                _i++;
                options.Add(ParseSeq());
            }
            return options.Count == 1 ? options[0] : new Alt(options);
        }

        private Seq ParseSeq()
        {
            var items = new List<Node>();
            while (_i < s.Length && s[_i] != '|' && s[_i] != ')')
            {
                var atom = ParseAtom();
                items.Add(ParseQuantifier(atom));
            }
            return new Seq(items);
        }

        private Node ParseQuantifier(Node atom)
        {
            if (_i >= s.Length) return atom;
            int min; int? max;
            switch (s[_i])
            {
                case '*': min = 0; max = null; _i++; break;
                case '+': min = 1; max = null; _i++; break;
                case '?': min = 0; max = 1; _i++; break;
                case '{':
                    var close = s.IndexOf('}', _i);
                    if (close < 0) throw new UndecidableException($"'{{' at position {_i + 1} is not a quantifier {{n}}, {{n,}} or {{n,m}}");
                    var body = s[(_i + 1)..close];
                    var parts = body.Split(',');
                    if (parts.Length is < 1 or > 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out min))
                        throw new UndecidableException($"'{{{body}}}' at position {_i + 1} is not a quantifier {{n}}, {{n,}} or {{n,m}}");
                    if (parts.Length == 1) max = min;
                    else if (parts[1].Length == 0) max = null;
                    else if (int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var m) && m >= min) max = m;
                    else throw new UndecidableException($"'{{{body}}}' at position {_i + 1} is not a quantifier {{n}}, {{n,}} or {{n,m}}");
                    _i = close + 1;
                    break;
                default: return atom;
            }
            // Lazy and possessive quantifiers match a subset of what the greedy one matches: analysing the greedy one is sound.
            if (_i < s.Length && (s[_i] == '?' || s[_i] == '+')) _i++;
            if (_i < s.Length && s[_i] is '*' or '+' or '?' or '{')
                throw new UndecidableException($"quantifier '{s[_i]}' at position {_i + 1} follows another quantifier");
            return new Repeat(atom, min, max);
        }

        private Node ParseAtom()
        {
            var c = s[_i];
            switch (c)
            {
                case '(':
                    _i++;
                    if (_i < s.Length && s[_i] == '?')
                    {
                        var rest = s[(_i + 1)..];
                        if (rest.StartsWith(':') || rest.StartsWith('>')) _i += 2;   // non-capturing; atomic matches a subset
                        else if (rest.StartsWith('<') && rest.Length > 1 && char.IsLetter(rest[1]))
                        {
                            var end = s.IndexOf('>', _i);
                            if (end < 0) throw new UndecidableException("unterminated named group");
                            _i = end + 1;
                        }
                        else if (rest.StartsWith('=') || rest.StartsWith('!') || rest.StartsWith("<=") || rest.StartsWith("<!"))
                            throw new UndecidableException("lookaround groups such as (?=…) or (?!…) are not supported");
                        else throw new UndecidableException("inline flags such as (?i) are not supported (a case-insensitive pattern escapes a prefix)");
                    }
                    var inner = ParseAlt();
                    if (_i >= s.Length || s[_i] != ')') throw new UndecidableException("unbalanced '(': a group is not closed");
                    _i++;
                    return inner;
                case ')': throw new UndecidableException($"unbalanced ')' at position {_i + 1}");
                case '[': return new Chars(ParseClass());
                case '.': _i++; return new Chars(CharSet.Any);
                // Anchors and boundaries only ever remove matches: reading them as "nothing" is sound.
                case '^': case '$': _i++; return new Empty();
                case '\\': return ParseEscape();
                case '*':
                case '+':
                case '?':
                case '{':
                    throw new UndecidableException($"dangling quantifier '{c}' at position {_i + 1}");
                default: _i++; return new Chars(CharSet.Of(c));
            }
        }

        private Node ParseEscape()
        {
            if (_i + 1 >= s.Length) throw new UndecidableException("the pattern ends with a lone backslash");
            var c = s[_i + 1];
            _i += 2;
            switch (c)
            {
                case 'b': case 'B': case 'A': case 'G': case 'z': case 'Z': return new Empty();
                case 'Q':
                    var end = s.IndexOf("\\E", _i, StringComparison.Ordinal);
                    var quoted = end < 0 ? s[_i..] : s[_i..end];
                    _i = end < 0 ? s.Length : end + 2;
                    return new Seq(quoted.Select(q => (Node)new Chars(CharSet.Of(q))).ToList());
                case 'R': return new Alt(new List<Node> { new Chars(CharSet.Any), new Seq(new List<Node> { new Chars(CharSet.Any), new Chars(CharSet.Any) }) });
                case 'k': throw new UndecidableException("back-references (\\k<name>) are not supported");
                case 'X': throw new UndecidableException("\\X (grapheme clusters) is not supported");
                default:
                    if (c is >= '1' and <= '9') throw new UndecidableException($"back-references (\\{c}) are not supported");
                    return new Chars(EscapedSet(c));
            }
        }

        /// <summary>The set an escape (after the backslash, <paramref name="c"/> already consumed) stands for, in or out of a class.</summary>
        private CharSet EscapedSet(char c)
        {
            switch (c)
            {
                case 'd': case 'D': case 'w': case 'W': case 's': case 'S': case 'h': case 'H': case 'v': case 'V': return CharSet.Any;
                case 'p':
                case 'P':
                    if (_i < s.Length && s[_i] == '{')
                    {
                        var close = s.IndexOf('}', _i);
                        if (close < 0) throw new UndecidableException("unterminated \\p{…}");
                        _i = close + 1;
                    }
                    else _i++;
                    return CharSet.Any;
                case 't': return CharSet.Of('\t');
                case 'n': return CharSet.Of('\n');
                case 'r': return CharSet.Of('\r');
                case 'f': return CharSet.Of('\f');
                case 'a': return CharSet.Of('\a');
                case 'e': return CharSet.Of('\u001b');
                case 'c':
                    if (_i >= s.Length) throw new UndecidableException("\\c without a control character");
                    return CharSet.Of((char)(s[_i++] ^ 64));
                case '0':
                    var oct = 0; var n = 0;
                    while (n < 3 && _i < s.Length && s[_i] is >= '0' and <= '7' && oct * 8 + (s[_i] - '0') <= 255) { oct = oct * 8 + (s[_i++] - '0'); n++; }
                    if (n == 0) throw new UndecidableException("\\0 without octal digits");
                    return CharSet.Of((char)oct);
                case 'x':
                    if (_i < s.Length && s[_i] == '{')
                    {
                        var close = s.IndexOf('}', _i);
                        if (close < 0 || !int.TryParse(s[(_i + 1)..close], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var cp) || cp > 0xFFFF)
                            throw new UndecidableException("\\x{…} is not a character this analysis supports");
                        _i = close + 1;
                        return CharSet.Of((char)cp);
                    }
                    return CharSet.Of((char)Hex(2));
                case 'u': return CharSet.Of((char)Hex(4));
                default:
                    // Java refuses unknown escaped letters; an escaped non-letter is that character.
                    if (char.IsAsciiLetter(c) || char.IsAsciiDigit(c)) throw new UndecidableException($"unknown escape \\{c}");
                    return CharSet.Of(c);
            }
        }

        private int Hex(int digits)
        {
            if (_i + digits > s.Length || !int.TryParse(s.AsSpan(_i, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var v))
                throw new UndecidableException("malformed hexadecimal escape");
            _i += digits;
            return v;
        }

        private CharSet ParseClass()
        {
            _i++; // '['
            var negated = _i < s.Length && s[_i] == '^';
            if (negated) _i++;
            var chars = new SortedSet<char>();
            var any = negated;
            var first = true;
            while (true)
            {
                if (_i >= s.Length) throw new UndecidableException("unbalanced '[': a character class is not closed");
                var c = s[_i];
                if (c == ']' && !first) { _i++; break; }
                first = false;
                if (c == '[') { any = true; SkipNestedClass(); continue; }                 // union/intersection: widen
                if (c == '&' && _i + 1 < s.Length && s[_i + 1] == '&') { any = true; _i += 2; continue; }
                char lo;
                if (c == '\\')
                {
                    if (_i + 1 >= s.Length) throw new UndecidableException("the pattern ends with a lone backslash");
                    var e = s[_i + 1];
                    _i += 2;
                    if (e == 'Q')
                    {
                        var end = s.IndexOf("\\E", _i, StringComparison.Ordinal);
                        var quoted = end < 0 ? s[_i..] : s[_i..end];
                        _i = end < 0 ? s.Length : end + 2;
                        foreach (var q in quoted) chars.Add(q);
                        continue;
                    }
                    var set = EscapedSet(e);
                    if (set.Chars is not { Count: 1 }) { any = true; continue; }
                    lo = set.Chars.Min;
                }
                else { lo = c; _i++; }
                if (_i + 1 < s.Length && s[_i] == '-' && s[_i + 1] != ']')
                {
                    _i++;
                    char hi;
                    if (s[_i] == '\\')
                    {
                        if (_i + 1 >= s.Length) throw new UndecidableException("the pattern ends with a lone backslash");
                        var e = s[_i + 1];
                        _i += 2;
                        var set = EscapedSet(e);
                        if (set.Chars is not { Count: 1 }) throw new UndecidableException("a character range ends in a class escape");
                        hi = set.Chars.Min;
                    }
                    else hi = s[_i++];
                    if (hi < lo) throw new UndecidableException($"illegal character range {lo}-{hi}");
                    if (hi - lo >= MaxFiniteSet) any = true;
                    else for (var x = lo; x <= hi; x++) chars.Add(x);
                }
                else chars.Add(lo);
            }
            return any || chars.Count == 0 ? CharSet.Any : CharSet.Of(chars);
        }

        private void SkipNestedClass()
        {
            var depth = 0;
            while (_i < s.Length)
            {
                var c = s[_i];
                if (c == '\\') { _i += 2; continue; }
                _i++;
                if (c == '[') depth++;
                else if (c == ']' && --depth == 0) return;
            }
            throw new UndecidableException("unbalanced '[': a character class is not closed");
        }
    }

    // ---- enumeration of match starts

    private static List<Pat> Expand(Node node, int k) => node switch
    {
        Empty => new List<Pat> { new(Array.Empty<CharSet>(), false) },
        Chars c => new List<Pat> { Cut(new[] { c.Set }, false, k) },
        Seq seq => seq.Items.Aggregate(new List<Pat> { new(Array.Empty<CharSet>(), false) }, (acc, item) => Concat(acc, Expand(item, k), k)),
        Alt alt => Distinct(alt.Options.SelectMany(o => Expand(o, k))),
        Repeat r => ExpandRepeat(r, k),
        _ => throw new InvalidOperationException(),
    };

    private static List<Pat> ExpandRepeat(Repeat r, int k)
    {
        var item = Expand(r.Item, k);
        // Beyond k+1 repetitions nothing new can appear in the first k characters.
        var min = Math.Min(r.Min, k + 1);
        var acc = new List<Pat> { new(Array.Empty<CharSet>(), false) };
        for (var i = 0; i < min; i++) acc = Concat(acc, item, k);
        var extra = r.Max is { } max ? Math.Min(max - r.Min, k + 1) : k + 1;
        var frontier = acc;
        var seen = acc.Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < extra; i++)
        {
            frontier = Concat(frontier, item, k).Where(p => seen.Add(p.Key)).ToList();
            if (frontier.Count == 0) break;
            acc.AddRange(frontier);
            Limit(acc);
        }
        return acc;
    }

    private static List<Pat> Concat(List<Pat> left, List<Pat> right, int k)
    {
        var result = new List<Pat>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var a in left)
        {
            if (a.Truncated) { if (seen.Add(a.Key)) result.Add(a); continue; }
            foreach (var b in right)
            {
                var p = Cut(a.Chars.Concat(b.Chars).ToArray(), b.Truncated, k);
                if (seen.Add(p.Key)) result.Add(p);
            }
            Limit(result);
        }
        return result;
    }

    private static Pat Cut(CharSet[] chars, bool truncated, int k)
        => chars.Length > k ? new Pat(chars[..k], true) : new Pat(chars, truncated);

    private static List<Pat> Distinct(IEnumerable<Pat> pats)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var list = pats.Where(p => seen.Add(p.Key)).ToList();
        Limit(list);
        return list;
    }

    private static void Limit(List<Pat> list)
    {
        if (list.Count > MaxPatterns) throw new UndecidableException("it has too many alternatives to check");
    }

    /// <summary>Null when every string starting with <paramref name="chars"/> starts with a prefix; otherwise an example start that does not.</summary>
    private static string? FirstUncovered(CharSet[] chars, bool truncated, IReadOnlyList<string> prefixes, ref int budget)
    {
        if (--budget <= 0) return null;
        foreach (var prefix in prefixes)
        {
            if (chars.Length < prefix.Length) continue;   // a whole topic shorter than the prefix
            var ok = true;
            for (var i = 0; i < prefix.Length && ok; i++) ok = chars[i].IsSingle(prefix[i]);
            if (ok) return null;
        }
        // A small class such as [fh] may still be covered one character at a time (finance. and hr.).
        var split = Array.FindIndex(chars, c => c.Chars is { Count: > 1 });
        if (split >= 0)
        {
            foreach (var c in chars[split].Chars!)
            {
                var copy = (CharSet[])chars.Clone();
                copy[split] = CharSet.Of(c);
                var bad = FirstUncovered(copy, truncated, prefixes, ref budget);
                if (bad != null) return bad;
            }
            return null;
        }
        return string.Concat(chars.Select(c => c.Show));
    }
}
