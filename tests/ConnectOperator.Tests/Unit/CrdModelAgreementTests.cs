using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using ConnectOperator.Entities;
using ConnectOperator.Tests.Infrastructure;
using k8s;
using k8s.Models;
using YamlDotNet.RepresentationModel;

namespace ConnectOperator.Tests.Unit;

/// <summary>
/// Proves that <c>crds/*.yaml</c> and the C# model in <c>src/ConnectOperator/Entities</c> describe the same API,
/// field by field in both directions, and that every schema field carries a description.
/// </summary>
public sealed class CrdModelAgreementTests
{
    public static IEnumerable<TestCaseData> Kinds()
    {
        yield return new TestCaseData("departments.yaml", typeof(V1Alpha1Department), V1Alpha1Department.Crd).SetArgDisplayNames("Department");
        yield return new TestCaseData("connectorquotas.yaml", typeof(V1Alpha1ConnectorQuota), V1Alpha1ConnectorQuota.Crd).SetArgDisplayNames("ConnectorQuota");
        yield return new TestCaseData("managedconnectors.yaml", typeof(V1Alpha1ManagedConnector), V1Alpha1ManagedConnector.Crd).SetArgDisplayNames("ManagedConnector");
    }

    [TestCaseSource(nameof(Kinds))]
    public void Schema_and_entity_type_agree_in_both_directions(string file, Type entity, EntityMetadata _)
    {
        var errors = SchemaComparer.Compare(entity, LoadCrd(file).Schema);
        Assert.That(errors, Is.Empty, string.Join("\n", errors));
    }

    [TestCaseSource(nameof(Kinds))]
    public void Every_schema_field_has_a_description(string file, Type _, EntityMetadata __)
    {
        var errors = SchemaComparer.MissingDescriptions(LoadCrd(file).Schema);
        Assert.That(errors, Is.Empty, string.Join("\n", errors));
    }

    [TestCaseSource(nameof(Kinds))]
    public void Entity_metadata_matches_crd_names(string file, Type entity, EntityMetadata meta)
    {
        var crd = LoadCrd(file).Crd;
        var spec = crd["spec"]!;
        var names = spec["names"]!;
        Assert.Multiple(() =>
        {
            Assert.That(crd["metadata"]!["name"]!.GetValue<string>(), Is.EqualTo(meta.CrdName));
            Assert.That(spec["group"]!.GetValue<string>(), Is.EqualTo(meta.Group).And.EqualTo(ConnectApi.Group));
            Assert.That(spec["versions"]![0]!["name"]!.GetValue<string>(), Is.EqualTo(meta.Version).And.EqualTo(ConnectApi.Version));
            Assert.That(spec["scope"]!.GetValue<string>(), Is.EqualTo(meta.Namespaced ? "Namespaced" : "Cluster"));
            Assert.That(names["kind"]!.GetValue<string>(), Is.EqualTo(meta.Kind));
            Assert.That(names["listKind"]!.GetValue<string>(), Is.EqualTo(meta.ListKind));
            Assert.That(names["plural"]!.GetValue<string>(), Is.EqualTo(meta.Plural));
            Assert.That(names["singular"]!.GetValue<string>(), Is.EqualTo(meta.Singular));
            Assert.That(names["categories"]!.AsArray().Select(n => n!.GetValue<string>()), Does.Contain(ConnectApi.Category));

            var attr = entity.GetCustomAttribute<KubernetesEntityAttribute>()!;
            Assert.That((attr.Group, attr.ApiVersion, attr.Kind, attr.PluralName), Is.EqualTo((meta.Group, meta.Version, meta.Kind, meta.Plural)));
            var instance = (IKubernetesObject)Activator.CreateInstance(entity)!;
            Assert.That((instance.ApiVersion, instance.Kind), Is.EqualTo((meta.ApiVersion, meta.Kind)));
        });
    }

    [Test]
    public void Reserved_keys_in_cel_rules_equal_ConnectApi_ReservedConfigKeys()
    {
        var text = File.ReadAllText(Path.Combine(TestCluster.RepoRoot, "crds", "managedconnectors.yaml"));
        var lists = Regex.Matches(text, @"in \[('[^\]]*')\]").Select(m => Regex.Matches(m.Groups[1].Value, "'([^']*)'").Select(x => x.Groups[1].Value).ToHashSet()).ToList();
        Assert.That(lists, Has.Count.EqualTo(1), "one list for spec.secretConfig; spec.config's reserved keys are ConfigRules' (webhook and validate)");
        foreach (var list in lists) Assert.That(list, Is.EquivalentTo(ConnectApi.ReservedConfigKeys));
        foreach (var key in ConnectApi.ReservedConfigKeys)
        {
            Assert.That(text, Does.Contain(key), "the CEL messages name every reserved key");
            Assert.That(ConfigRules.ReservedMessage, Does.Contain(key));
        }
    }

    [Test]
    public void Entities_serialise_with_the_schema_names_and_defaults()
    {
        var mc = new V1Alpha1ManagedConnector
        {
            Metadata = new V1ObjectMeta { Name = "a", NamespaceProperty = "finance" },
            Spec = { ConnectorClass = "S3_SINK", Config = { ["topics"] = "finance.a" } },
        };
        mc.Spec.SecretConfig.Add(new V1Alpha1SecretConfigEntry { Key = "aws.secret.access.key", SecretKeyRef = { Name = "s", Key = "k" } });
        var json = JsonNode.Parse(KubernetesJson.Serialize(mc))!;
        Assert.Multiple(() =>
        {
            Assert.That(json["apiVersion"]!.GetValue<string>(), Is.EqualTo("connect.ebs.io/v1alpha1"));
            Assert.That(json["kind"]!.GetValue<string>(), Is.EqualTo("ManagedConnector"));
            Assert.That(json["spec"]!["tasksMax"]!.GetValue<int>(), Is.EqualTo(1));
            Assert.That(json["spec"]!["state"]!.GetValue<string>(), Is.EqualTo("Running"));
            Assert.That(json["spec"]!["restartPolicy"]!["maxRestarts"]!.GetValue<int>(), Is.EqualTo(10));
            Assert.That(json["spec"]!["secretConfig"]![0]!["secretKeyRef"]!["name"]!.GetValue<string>(), Is.EqualTo("s"));
            Assert.That(json["status"], Is.Null);
        });
        var back = KubernetesJson.Deserialize<V1Alpha1ManagedConnector>(json.ToJsonString());
        Assert.That(back.Spec.Config["topics"], Is.EqualTo("finance.a"));

        var status = new V1Alpha1DepartmentStatus { Conditions = { new Condition { Type = "Ready", Status = "True", Reason = "Ok", LastTransitionTime = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc) } } };
        var cond = JsonNode.Parse(KubernetesJson.Serialize(status))!["conditions"]![0]!;
        Assert.That(cond["lastTransitionTime"]!.GetValue<string>(), Does.StartWith("2026-01-02T03:04:05"));
        Assert.That(cond["message"]!.GetValue<string>(), Is.Empty, "message is required by the schema, so it is always sent");
    }

    // ---- negative tests: the comparer really finds disagreements ----

    private sealed class FakeConnector
    {
        [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = "";
        [JsonPropertyName("kind")] public string Kind { get; set; } = "";
        [JsonPropertyName("metadata")] public V1ObjectMeta Metadata { get; set; } = new();
        [JsonPropertyName("spec")] public FakeSpec Spec { get; set; } = new();
        [JsonPropertyName("status")] public V1Alpha1ManagedConnectorStatus? Status { get; set; }
    }

    private sealed class FakeSpec
    {
        [JsonPropertyName("connectorClass")] public string? ConnectorClass { get; set; }          // required in the schema
        [JsonPropertyName("tasksMax")] public string TasksMax { get; set; } = "";                  // integer in the schema
        [JsonPropertyName("config")] public FakeConfig Config { get; set; } = new();               // map in the schema
        [JsonPropertyName("secretConfig")] public IDictionary<string, string> SecretConfig { get; set; } = new Dictionary<string, string>(); // array
        [JsonPropertyName("state")] public string State { get; set; } = "";
        [JsonPropertyName("restartPolicy")] public V1Alpha1RestartPolicy RestartPolicy { get; set; } = new();
        [JsonPropertyName("customPlugin")] public V1Alpha1CustomPluginRef? CustomPlugin { get; set; }
        [JsonPropertyName("replicas")] public int Replicas { get; set; }                           // not in the schema
        public string NoJsonName { get; set; } = "";                                                // no [JsonPropertyName]
        // deletionPolicy missing
    }

    private sealed class FakeConfig
    {
        [JsonPropertyName("topics")] public string? Topics { get; set; }
    }

    [Test]
    public void Comparer_reports_every_kind_of_mismatch()
    {
        var errors = SchemaComparer.Compare(typeof(FakeConnector), LoadCrd("managedconnectors.yaml").Schema);
        var all = string.Join("\n", errors);
        Assert.Multiple(() =>
        {
            Assert.That(all, Does.Contain(".spec.connectorClass: required in the schema but nullable"));
            Assert.That(all, Does.Contain(".spec.tasksMax: schema type integer, C# String is string"));
            Assert.That(all, Does.Contain(".spec.config: schema is a map (additionalProperties), C# FakeConfig is not a dictionary"));
            Assert.That(all, Does.Contain(".spec.secretConfig: schema type array, C# IDictionary`2 is object"));
            Assert.That(all, Does.Contain(".spec.replicas: in C# but not in the schema"));
            Assert.That(all, Does.Contain(".spec.deletionPolicy: in the schema but not in C#"));
            Assert.That(all, Does.Contain(".spec: C# property FakeSpec.NoJsonName has no [JsonPropertyName]"));
        });
        Assert.That(errors, Has.Count.EqualTo(9), all);
    }

    [Test]
    public void Comparer_reports_missing_descriptions()
    {
        var schema = JsonNode.Parse("""
            {"type":"object","description":"root","properties":{
              "spec":{"type":"object","description":"s","properties":{
                "a":{"type":"string"},
                "b":{"type":"array","description":"b","items":{"type":"object","properties":{"c":{"type":"integer","description":" "}}}},
                "m":{"type":"object","description":"m","additionalProperties":{"type":"string"}}}}}}
            """)!.AsObject();
        var errors = SchemaComparer.MissingDescriptions(schema);
        Assert.That(errors, Is.EquivalentTo(new[] { ".spec.a", ".spec.b[]", ".spec.b[].c", ".spec.m{}" }));
    }

    // ---- loading ----

    private static (JsonObject Crd, JsonObject Schema) LoadCrd(string file)
    {
        var path = Path.Combine(TestCluster.RepoRoot, "crds", file);
        var yaml = new YamlStream();
        using (var reader = File.OpenText(path)) yaml.Load(reader);
        Assert.That(yaml.Documents, Has.Count.EqualTo(1), $"{file}: one CRD per file");
        var crd = ToJson(yaml.Documents[0].RootNode)!.AsObject();
        var versions = crd["spec"]!["versions"]!.AsArray();
        Assert.That(versions, Has.Count.EqualTo(1), $"{file}: exactly one version (v1alpha1)");
        return (crd, versions[0]!["schema"]!["openAPIV3Schema"]!.AsObject());
    }

    /// <summary>YAML to JSON; scalars stay strings except the few typed fields we read (booleans/ints are not compared).</summary>
    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode m => new JsonObject(m.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, ToJson(kv.Value)))),
        YamlSequenceNode s => new JsonArray(s.Children.Select(ToJson).ToArray()),
        YamlScalarNode sc => JsonValue.Create(sc.Value),
        _ => throw new NotSupportedException(node.GetType().Name),
    };
}

/// <summary>Walks a C# type and an OpenAPI v3 schema side by side.</summary>
internal static class SchemaComparer
{
    private static readonly NullabilityInfoContext Nullability = new();

    public static List<string> Compare(Type entity, JsonObject schema)
    {
        var errors = new List<string>();
        CompareObject(entity, schema, "", errors, root: true);
        return errors;
    }

    public static List<string> MissingDescriptions(JsonObject schema)
    {
        var errors = new List<string>();
        Walk(schema, "", root: true);
        return errors;

        void Walk(JsonObject node, string path, bool root)
        {
            if (!root && string.IsNullOrWhiteSpace(node["description"]?.GetValue<string>())) errors.Add(path);
            if (node["properties"] is JsonObject props)
                foreach (var (name, child) in props)
                {
                    if (root && name == "metadata") continue; // the API server forbids anything but type on metadata
                    Walk(child!.AsObject(), $"{path}.{name}", root: false);
                }
            if (node["items"] is JsonObject items) Walk(items, path + "[]", root: false);
            if (node["additionalProperties"] is JsonObject ap) Walk(ap, path + "{}", root: false);
        }
    }

    private static string KindOf(Type t)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        if (t == typeof(string) || t == typeof(DateTime) || t == typeof(DateTimeOffset)) return "string";
        if (t == typeof(int) || t == typeof(long) || t == typeof(short) || t == typeof(uint) || t == typeof(ulong)) return "integer";
        if (t == typeof(bool)) return "boolean";
        if (t == typeof(double) || t == typeof(float) || t == typeof(decimal)) return "number";
        if (DictionaryValueType(t) != null) return "object";
        if (ElementType(t) != null) return "array";
        return "object";
    }

    private static Type? DictionaryValueType(Type t)
    {
        foreach (var i in t.GetInterfaces().Append(t))
            if (i.IsGenericType && (i.GetGenericTypeDefinition() == typeof(IDictionary<,>) || i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>))
                && i.GetGenericArguments()[0] == typeof(string))
                return i.GetGenericArguments()[1];
        return null;
    }

    private static Type? ElementType(Type t)
    {
        if (t == typeof(string) || !typeof(IEnumerable).IsAssignableFrom(t)) return null;
        if (t.IsArray) return t.GetElementType();
        return t.GetInterfaces().Append(t).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];
    }

    private static void CompareNode(Type type, JsonObject schema, string path, List<string> errors)
    {
        var kind = KindOf(type);
        var schemaType = schema["type"]?.GetValue<string>();
        // spec.config values are untyped in the CRD so that unquoted numbers and booleans are kept as written;
        // ConfigValuesConverter reads each as its text, so string is the C# side of that contract.
        if (path == ".spec.config{}" && schemaType is null && kind == "string" && schema["x-kubernetes-preserve-unknown-fields"]?.ToString() is "true" or "True") return;
        if (schemaType != kind)
        {
            errors.Add($"{path}: schema type {schemaType ?? "(none)"}, C# {type.Name} is {kind}");
            return;
        }
        switch (kind)
        {
            case "array":
                if (schema["items"] is not JsonObject items) { errors.Add($"{path}: array without items"); return; }
                CompareNode(ElementType(type)!, items, path + "[]", errors);
                break;
            case "object":
                var valueType = DictionaryValueType(Nullable.GetUnderlyingType(type) ?? type);
                var ap = schema["additionalProperties"] as JsonObject;
                if (valueType != null)
                {
                    if (ap == null) errors.Add($"{path}: C# {type.Name} is a dictionary, schema has no additionalProperties");
                    else CompareNode(valueType, ap, path + "{}", errors);
                    if (schema["properties"] != null) errors.Add($"{path}: C# dictionary but schema has fixed properties");
                }
                else if (ap != null) errors.Add($"{path}: schema is a map (additionalProperties), C# {type.Name} is not a dictionary");
                else CompareObject(type, schema, path, errors, root: false);
                break;
        }
    }

    private static void CompareObject(Type type, JsonObject schema, string path, List<string> errors, bool root)
    {
        var schemaProps = schema["properties"] as JsonObject ?? new JsonObject();
        var required = (schema["required"] as JsonArray)?.Select(n => n!.GetValue<string>()).ToHashSet() ?? new HashSet<string>();
        var csharp = new Dictionary<string, PropertyInfo>();
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.GetCustomAttribute<JsonIgnoreAttribute>() != null) continue;
            var name = p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name;
            if (name == null) { errors.Add($"{(path == "" ? "." : path)}: C# property {type.Name}.{p.Name} has no [JsonPropertyName]"); continue; }
            csharp[name] = p;
        }

        foreach (var (name, p) in csharp)
        {
            var childPath = $"{path}.{name}";
            if (schemaProps[name] is not JsonObject child) { errors.Add($"{childPath}: in C# but not in the schema"); continue; }
            if (required.Contains(name) && !p.PropertyType.IsValueType && Nullability.Create(p).WriteState == NullabilityState.Nullable)
                errors.Add($"{childPath}: required in the schema but nullable in C# ({type.Name}.{p.Name})");
            if (required.Contains(name) && Nullable.GetUnderlyingType(p.PropertyType) != null)
                errors.Add($"{childPath}: required in the schema but nullable in C# ({type.Name}.{p.Name})");
            if (root && name == "metadata")
            {
                if (p.PropertyType != typeof(V1ObjectMeta)) errors.Add($"{childPath}: must be V1ObjectMeta");
                continue;
            }
            CompareNode(p.PropertyType, child, childPath, errors);
        }
        foreach (var (name, _) in schemaProps)
            if (!csharp.ContainsKey(name)) errors.Add($"{path}.{name}: in the schema but not in C# ({type.Name})");
    }
}
