using System.Text.Json;
using ConnectOperator.Entities;
using ConnectOperator.Policy;
using ConnectOperator.Runtime;
using k8s;
using Newtonsoft.Json.Linq;

namespace ConnectOperator.Cli.Validation;

/// <summary>What to validate: the <c>validate</c> command's options.</summary>
public sealed record ValidateOptions(IReadOnlyList<string> Files, string? Departments = null, string? Quotas = null, string Output = "text");

/// <summary>
/// <c>connect-operator validate</c> without a cluster: CRD schema (NJsonSchema over the embedded CRDs), the CEL rules
/// of <see cref="CelRules"/>, list-type uniqueness, then department policy (<see cref="PolicyEvaluator"/>) and quota
/// (<see cref="QuotaMath"/>) — the same decision code as the admission webhook and the reconciler.
/// </summary>
public static class ManifestValidator
{
    public const int ExitValid = 0;
    public const int ExitInvalid = 1;
    public const int ExitUsage = 2;

    /// <summary>Runs the command: writes the report to <paramref name="stdout"/>, usage errors to <paramref name="stderr"/>, returns the exit code.</summary>
    public static int Run(ValidateOptions options, TextWriter stdout, TextWriter stderr)
    {
        if (options.Files.Count == 0)
            return Usage(stderr, "-f/--filename is required: give the manifest files or folders to validate");
        if (options.Output is not ("text" or "json"))
            return Usage(stderr, $"--output must be text or json, not {options.Output}");
        foreach (var p in options.Files.Append(options.Departments).Append(options.Quotas).OfType<string>())
            if (!File.Exists(p) && !Directory.Exists(p))
                return Usage(stderr, $"path {p} does not exist");

        var report = Validate(options);
        if (options.Output == "json")
        {
            stdout.WriteLine(JsonSerializer.Serialize(report, ValidationJsonContext.Report));
        }
        else
        {
            foreach (var f in report.Findings) stdout.WriteLine(FormatText(f));
            foreach (var n in report.Notes ?? []) stdout.WriteLine($"note: {n.File}: {n.Message}");
            stdout.WriteLine(report.Valid
                ? $"validate: {report.Files} file(s), {report.Objects} object(s): valid"
                : $"validate: {report.Files} file(s), {report.Objects} object(s): {report.Findings.Count} finding(s), invalid");
        }
        return report.Valid ? ExitValid : ExitInvalid;
    }

    private static int Usage(TextWriter stderr, string message)
    {
        stderr.WriteLine("validate: " + message);
        stderr.WriteLine("usage: connect-operator validate -f <files or folders> [--departments <file or folder>] [--quotas <file or folder>] [--output text|json]");
        return ExitUsage;
    }

    /// <summary><c>file:line: ManagedConnector ns/name: field: message [rule]</c>.</summary>
    public static string FormatText(Finding f)
    {
        var obj = f.ObjectName.Length > 0 ? f.ObjectName + ": " : "";
        var msg = f.Field.Length == 0 || f.Message.StartsWith(f.Field, StringComparison.Ordinal) || f.Message.StartsWith("unknown field", StringComparison.Ordinal)
            ? f.Message : $"{f.Field}: {f.Message}";
        return $"{f.File}:{f.Line}: {obj}{msg} [{f.Rule}]";
    }

    /// <summary>Expands files and folders (recursively, *.yaml and *.yml) in a stable order.</summary>
    public static IReadOnlyList<string> ExpandPaths(IEnumerable<string> paths)
    {
        var result = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in paths)
        {
            IEnumerable<string> files = Directory.Exists(p)
                ? Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories)
                    .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
                    .Order(StringComparer.Ordinal)
                : new[] { p };
            foreach (var f in files)
                if (seen.Add(Path.GetFullPath(f))) result.Add(f);
        }
        return result;
    }

    public static ValidationReport Validate(ValidateOptions options)
    {
        var findings = new List<Finding>();
        var inputFiles = ExpandPaths(options.Files);
        var inputFull = inputFiles.Select(Path.GetFullPath).ToHashSet(StringComparer.Ordinal);
        var referenceFiles = ExpandPaths(new[] { options.Departments, options.Quotas }.OfType<string>())
            .Where(f => !inputFull.Contains(Path.GetFullPath(f))).ToList();

        var inputs = inputFiles.SelectMany(f => Load(f, findings)).ToList();
        var references = referenceFiles.SelectMany(f => Load(f, findings)).ToList();

        // 1. schema, list types, CEL for every object of our group among the inputs.
        var objects = 0;
        var connectors = new List<(ManifestDocument Doc, V1Alpha1ManagedConnector Mc)>();
        var rejected = new HashSet<ManifestDocument>(ReferenceEqualityComparer.Instance);
        foreach (var doc in inputs)
        {
            var before = findings.Count;
            if (!CheckEnvelope(doc, findings)) continue;
            if (!CrdSchemas.IsOurGroup(doc.ApiVersion)) continue;
            objects++;
            var crd = CrdSchemas.Find(doc.ApiVersion!, doc.Kind!);
            if (crd is null)
            {
                findings.Add(At(doc, doc.Root["kind"], "kind", FindingRules.Schema,
                    $"no matches for kind \"{doc.Kind}\" in version \"{doc.ApiVersion}\" (known: {string.Join(", ", CrdSchemas.All.Select(s => s.ApiVersion + " " + s.Kind))})"));
                continue;
            }
            if (doc.Root["metadata"]?["name"] is { Type: not JTokenType.String } nonString)
                findings.Add(At(doc, nonString, "metadata.name", FindingRules.Schema,
                    $"metadata.name: Invalid value: {CrdSchemas.GoValue(nonString)}: must be a string (YAML reads it as {CrdSchemas.TypeName(nonString)}; quote it)"));
            else if (doc.Name is null)
                findings.Add(At(doc, doc.Root["metadata"], "metadata.name", FindingRules.Schema, "metadata.name: Required value: name is required"));
            var configKinds = crd.Kind == V1Alpha1ManagedConnector.KubeKind ? ConfigKinds(doc.Root) : new();
            foreach (var (token, field, message) in CrdSchemas.Validate(crd, doc.Root))
                findings.Add(At(doc, token, field, FindingRules.Schema, message));
            // NJsonSchema applies no array, object or string limits to an untyped node, so spec.config's are checked
            // here, worded as the API server prints them (checked against it); a config finding below says what to write instead.
            if (doc.Root["spec"]?["config"] is JObject configValues)
                foreach (var p in configValues.Properties())
                    if (UntypedLimit(p) is { } limit) findings.Add(At(doc, p.Value, $"spec.config.{p.Name}", FindingRules.Schema, limit));
            if (crd.Kind == V1Alpha1ManagedConnector.KubeKind)
            {
                var secretKeys = (doc.Root["spec"]?["secretConfig"] as JArray)?.Children<JObject>()
                    .Select(e => e["key"]).OfType<JValue>().Where(k => k.Type == JTokenType.String).Select(k => (string)k!) ?? Enumerable.Empty<string>();
                foreach (var v in ConfigRules.Check(configKinds, secretKeys))
                    findings.Add(AtField(doc, v.Field, FindingRules.Config, v.Message));
            }
            foreach (var (token, field, message) in ListTypes.Validate(crd, doc.Root))
                findings.Add(At(doc, token, field, FindingRules.Schema, message));
            foreach (var v in CelRules.Evaluate(crd, doc.Root))
                findings.Add(At(doc, v.Token, v.Field, FindingRules.Cel, v.Message));

            if (crd.Kind == V1Alpha1ManagedConnector.KubeKind)
            {
                if (doc.Namespace is null or "")
                    findings.Add(At(doc, doc.Root["metadata"], "metadata.namespace", FindingRules.Policy,
                        "metadata.namespace is not set: set metadata.namespace to the namespace the connector is applied to, so its Department (policy and quota) can be found"));
                else if (doc.Name != null && TryDeserialize<V1Alpha1ManagedConnector>(doc) is { } mc)
                    connectors.Add((doc, mc));
            }
            if (findings.Count > before) rejected.Add(doc);
        }

        // 2. policy and quota, with the Departments and ConnectorQuotas given (inputs win over references of the same name;
        //    an input Department or ConnectorQuota that the API server would refuse does not count).
        var all = references.Concat(inputs.Where(d => !rejected.Contains(d))).Where(d => d.Root is JObject && d.Name != null).ToList();
        var departments = Latest<V1Alpha1Department>(all, V1Alpha1Department.KubeKind).Select(TenantDirectory.ToPolicy).ToList();
        // One prefix per Department, as the webhook insists: reported on the input Departments that share one.
        foreach (var doc in inputs.Where(d => !rejected.Contains(d) && d.Kind == V1Alpha1Department.KubeKind && CrdSchemas.IsOurGroup(d.ApiVersion) && d.Name != null))
            if (departments.FirstOrDefault(p => p.Name == doc.Name) is { } self
                && ConnectorNaming.CheckUniquePrefix(self, departments) is { } clash)
                findings.Add(AtField(doc, clash.Field, FindingRules.Policy, clash.Message));
        var quotas = Latest<V1Alpha1ConnectorQuota>(all, V1Alpha1ConnectorQuota.KubeKind).ToList();
        var notes = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        void Note(ManifestDocument doc, string message)
        {
            if (!notes.TryGetValue(doc.File, out var set)) notes[doc.File] = set = new SortedSet<string>(StringComparer.Ordinal);
            set.Add(message);
        }
        if (departments.Count == 0)
            foreach (var (doc, _) in connectors)
                Note(doc, "department policy and quota were not checked: no Department given (--departments, or a Department among -f)");
        if (departments.Count > 0)
        {
            // The last manifest of a namespace/name wins, as with kubectl apply.
            var byKey = new Dictionary<string, (ManifestDocument Doc, ConnectorCandidate C)>(StringComparer.Ordinal);
            foreach (var (doc, mc) in connectors)
            {
                var c = TenantDirectory.ToCandidate(mc);
                byKey[c.Key] = (doc, c);
            }
            var perDepartment = new Dictionary<string, List<(ManifestDocument Doc, ConnectorCandidate C)>>(StringComparer.Ordinal);
            foreach (var (doc, c) in byKey.Values)
            {
                var (dept, violation) = PolicyEvaluator.ResolveDepartment(c.Namespace, departments);
                if (dept is null)
                {
                    if (violation != null) findings.Add(AtField(doc, violation.Field, FindingRules.Policy, violation.Message));
                    continue;
                }
                foreach (var v in PolicyEvaluator.Evaluate(dept, c, departments.Where(d => d.Name != dept.Name)))
                {
                    // A missing class is the schema's finding ("Required value"); "class  is not allowed" would only confuse.
                    if (c.ConnectorClass.Length == 0 && v.Field == "spec.connectorClass") continue;
                    findings.Add(AtField(doc, v.Field, FindingRules.Policy, v.Message));
                }
                // The API server refuses an object that fails the schema before the webhook counts it: so does quota here.
                if (rejected.Contains(doc)) continue;
                if (!perDepartment.TryGetValue(dept.Name, out var list)) perDepartment[dept.Name] = list = new();
                list.Add((doc, c));
            }
            foreach (var (dept, list) in perDepartment)
            {
                var limits = quotas.Where(q => q.Spec?.DepartmentRef?.Name == dept).Select(TenantDirectory.ToLimits).ToList();
                if (limits.Count == 0)
                    foreach (var (doc, _) in list)
                        Note(doc, $"quota was not checked: no ConnectorQuota for department {dept} given (--quotas, or a ConnectorQuota among -f)");
                var over = QuotaMath.OverQuota(list.Select(x => x.C), limits);
                foreach (var (doc, c) in list)
                    if (over.TryGetValue(c.Key, out var v))
                        findings.Add(AtField(doc, v.Field, FindingRules.Quota, v.Message));
            }
        }

        var ordered = findings
            .OrderBy(f => f.File, StringComparer.Ordinal).ThenBy(f => f.Line).ThenBy(f => f.Field, StringComparer.Ordinal)
            .ToList();
        return new ValidationReport(ordered.Count == 0, inputFiles.Count, objects, ordered,
            notes.SelectMany(kv => kv.Value.Select(m => new ValidationNote(kv.Key, m))).ToList());
    }

    private static Dictionary<string, ConfigValueKind> ConfigKinds(JToken root)
    {
        var result = new Dictionary<string, ConfigValueKind>(StringComparer.Ordinal);
        if (root["spec"]?["config"] is JObject config)
            foreach (var p in config.Properties())
                result[p.Name] = p.Value.Type switch
                {
                    JTokenType.Array => ConfigValueKind.List,
                    JTokenType.Object => ConfigValueKind.Map,
                    _ => ConfigValueKind.Scalar,
                };
        return result;
    }

    private static string? UntypedLimit(JProperty p) => p.Value switch
    {
        JArray { Count: 0 } => $"spec.config.{p.Name}: Invalid value: 0: spec.config.{p.Name} in body should have at least 1 items",
        JArray a => $"spec.config.{p.Name}: Too many: {a.Count}: must have at most 0 items",
        JObject { Count: 0 } => $"spec.config.{p.Name}: Invalid value: 0: spec.config.{p.Name} in body should have at least 1 properties",
        JObject o => $"spec.config.{p.Name}: Too many: {o.Count}: must have at most 0 items",
        JValue { Type: JTokenType.String } v when System.Text.Encoding.UTF8.GetByteCount((string)v!) > ConfigRules.MaxValueLength
            => $"spec.config.{p.Name}: Too long: may not be more than {ConfigRules.MaxValueLength} bytes",
        _ => null,
    };

    private static Dictionary<string, T>.ValueCollection Latest<T>(IEnumerable<ManifestDocument> docs, string kind) where T : class
    {
        var byName = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var d in docs)
            if (d.Kind == kind && CrdSchemas.IsOurGroup(d.ApiVersion) && TryDeserialize<T>(d) is { } obj)
                byName[d.Name!] = obj;
        return byName.Values;
    }

    private static T? TryDeserialize<T>(ManifestDocument doc) where T : class
    {
        try
        {
            return KubeJson.Deserialize<T>(doc.Root.ToString(Newtonsoft.Json.Formatting.None));
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or ArgumentException)
        {
            return null; // the schema findings say why
        }
    }

    private static IReadOnlyList<ManifestDocument> Load(string file, List<Finding> findings)
    {
        try
        {
            var docs = YamlManifests.Load(file, File.ReadAllText(file));
            foreach (var d in docs) DropNulls(d.Root);
            return docs;
        }
        catch (YamlManifests.YamlParseException e)
        {
            findings.Add(new Finding(file, e.Line, null, null, null, "", FindingRules.Parse, e.Message));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            findings.Add(new Finding(file, 1, null, null, null, "", FindingRules.Parse, "cannot read file: " + e.Message));
        }
        return Array.Empty<ManifestDocument>();
    }

    /// <summary>The API server drops null fields of non-nullable schemas before validating; so does <c>validate</c>.</summary>
    private static void DropNulls(JToken token)
    {
        switch (token)
        {
            case JObject o:
                foreach (var p in o.Properties().ToList())
                    if (p.Value.Type == JTokenType.Null) p.Remove();
                    else DropNulls(p.Value);
                break;
            case JArray a:
                foreach (var item in a) DropNulls(item);
                break;
        }
    }

    /// <summary>A document must be an object with apiVersion and kind, as kubectl requires.</summary>
    private static bool CheckEnvelope(ManifestDocument doc, List<Finding> findings)
    {
        if (doc.Root is not JObject)
        {
            findings.Add(new Finding(doc.File, doc.Line, null, null, null, "", FindingRules.Parse,
                $"document is a YAML {CrdSchemas.TypeName(doc.Root)}, not a Kubernetes object (a mapping with apiVersion, kind, metadata)"));
            return false;
        }
        var missing = new[] { ("apiVersion", doc.ApiVersion), ("kind", doc.Kind) }.Where(x => string.IsNullOrEmpty(x.Item2)).Select(x => x.Item1 + " not set").ToList();
        if (missing.Count == 0) return true;
        findings.Add(new Finding(doc.File, doc.Line, doc.Kind, doc.Namespace, doc.Name, "", FindingRules.Parse,
            $"error validating data: [{string.Join(", ", missing)}]"));
        return false;
    }

    private static Finding At(ManifestDocument doc, JToken? token, string field, string rule, string message)
        => new(doc.File, token is null ? doc.Line : doc.LineOf(token), doc.Kind, doc.Namespace, doc.Name, field, rule, message);

    private static Finding AtField(ManifestDocument doc, string field, string rule, string message)
        => new(doc.File, doc.LineOf(Locate(doc.Root, field)), doc.Kind, doc.Namespace, doc.Name, field, rule, message);

    /// <summary>
    /// The node a policy field path such as <c>spec.config[topics]</c> or <c>spec.secretConfig[database.password]</c>
    /// names (a bracket on a list selects the item whose <c>key</c> matches), or its closest existing ancestor.
    /// </summary>
    private static readonly char[] SegmentEnds = ['.', '['];

    public static JToken Locate(JToken root, string field)
    {
        var current = root;
        var i = 0;
        while (i < field.Length)
        {
            string seg;
            var bracket = field[i] == '[';
            if (bracket)
            {
                var end = field.IndexOf(']', i);
                if (end < 0) break;
                seg = field[(i + 1)..end];
                i = end + 1;
            }
            else
            {
                if (field[i] == '.') i++;
                var end = field.IndexOfAny(SegmentEnds, i);
                if (end < 0) end = field.Length;
                seg = field[i..end];
                i = end;
            }
            JToken? next = current switch
            {
                JObject o => o[seg],
                JArray a when int.TryParse(seg, out var idx) && idx >= 0 && idx < a.Count => a[idx],
                JArray a => a.Children<JObject>().FirstOrDefault(e => (string?)e["key"] == seg),
                _ => null,
            };
            if (next is null) break;
            current = next;
        }
        return current;
    }
}
