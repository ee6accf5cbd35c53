using ConnectOperator.Tests.Infrastructure;

namespace ConnectOperator.Tests.Integration.Docs;

/// <summary>
/// The department member's walk-through of handbook chapter 1 ("Walk-through: a day as a department member"): what a
/// member of finance-devs runs with their own rights. Here its shape is checked; it is RUN as that member, under only
/// the roles chapter 1 binds, against the demo environment by
/// <c>HandbookCommandsTests.The_department_member_walkthrough_runs_as_a_department_editor</c>.
/// </summary>
public class DepartmentMemberWalkthroughTests
{
    private static string WalkthroughBlock()
    {
        var blocks = DocBlocks.Parse(Path.Combine(TestCluster.RepoRoot, "docs", "handbook", "01-roles.md"));
        return blocks.Single(b => b.Code.Contains("# 1. My connectors", StringComparison.Ordinal)).Code;
    }

    [Test]
    public void The_walkthrough_covers_connectors_events_quota_and_logs_within_the_members_rights()
    {
        var code = WalkthroughBlock();
        Assert.Multiple(() =>
        {
            Assert.That(code, Does.Contain("kubectl get mc -n finance"), "list my connectors, in my namespace");
            Assert.That(code, Does.Contain("kubectl get events -n finance"), "read their events");
            Assert.That(code, Does.Contain("kubectl get connectorquota finance"), "read my quota (by name: the per-department reader role)");
            Assert.That(code, Does.Contain("connect-operator logs finance/"), "read my logs");
            Assert.That(code.Split('\n').Where(l => l.Contains("Forbidden", StringComparison.Ordinal)).Count(), Is.EqualTo(3), "what the member cannot do");
        });
        // Before the Forbidden lines, nothing lists across namespaces or other departments.
        var allowed = string.Join("\n", code[..code.IndexOf("# What I cannot do", StringComparison.Ordinal)].Split('\n').Where(l => !l.TrimStart().StartsWith('#')));
        Assert.That(allowed, Does.Not.Contain(" -A").And.Not.Contain("-n hr").And.Not.Contain("quota hr"));
    }
}
