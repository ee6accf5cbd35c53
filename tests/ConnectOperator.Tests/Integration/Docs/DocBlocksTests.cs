namespace ConnectOperator.Tests.Integration.Docs;

/// <summary>The docs test's parser and output matcher, on small inputs (no cluster).</summary>
public class DocBlocksTests
{
    [Test]
    public void Finds_marked_blocks_and_their_expected_output_and_skips_plain_ones()
    {
        var file = Path.Combine(Path.GetTempPath(), $"docblocks-{Guid.NewGuid():N}.md");
        File.WriteAllText(file, string.Join("\n",
            "# t", "", "```sh demo", "kubectl get mc -A", "```", "", "```text", "NAME…READY", "```", "",
            "```sh", "helm install x", "```", "", "<!-- demo-test -->", "```sh", "kubectl apply --dry-run=server -f x", "```",
            "", "```sh demo", "echo a", "```", "some text", "```text", "not attached", "```"));
        try
        {
            var blocks = DocBlocks.Parse(file);
            var runnable = blocks.Where(b => b.Runnable).ToList();
            Assert.That(runnable.Select(b => b.Code), Is.EqualTo(new[] { "kubectl get mc -A", "kubectl apply --dry-run=server -f x", "echo a" }));
            Assert.That(runnable[0].ExpectedOutput, Is.EqualTo("NAME…READY"));
            Assert.That(runnable[0].Line, Is.EqualTo(3));
            Assert.That(runnable[2].ExpectedOutput, Is.Null, "text after prose is not expected output");
            Assert.That(blocks.Single(b => b.Code == "helm install x").Runnable, Is.False);
        }
        finally { File.Delete(file); }
    }

    [Test]
    public void Missing_lines_are_reported_and_ellipsis_matches_anything_in_order()
    {
        const string output = "NAME   READY   REASON\nhr     True    Running\n";
        Assert.That(DocBlocks.Missing("NAME…READY\nhr…Running", output), Is.Empty);
        Assert.That(DocBlocks.Missing("hr True Running", output), Is.Empty, "whitespace runs compare equal");
        Assert.That(DocBlocks.Missing("Running…hr", output), Is.EqualTo(new[] { "Running…hr" }), "pieces must be in order");
        Assert.That(DocBlocks.Missing("finance", output), Is.EqualTo(new[] { "finance" }));
    }
}
