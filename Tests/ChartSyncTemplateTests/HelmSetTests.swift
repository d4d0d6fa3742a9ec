@testable import ChartSyncTemplate
import Testing

/// `--set NAME=VALUE` (helmfile's `set:`) as a values layer, and that layer merged over values
/// files as Helm's strvals.ParseInto sets it over them.
@Suite struct HelmSetTests {
    @Test(arguments: [
        // Typing as strvals.typedVal: booleans and null in any case, integers not starting with 0.
        ("a.b", "true", "{a: {b: true}}"),
        ("a", "FALSE", "{a: false}"),
        ("a", "Null", "{a: null}"),
        ("a", "0", "{a: 0}"),
        ("a", "42", #"{a: "42"}"#),              // an int64: rendered as its digits, never as a float
        ("a", "+7", #"{a: "7"}"#),
        ("a", "20230101", #"{a: "20230101"}"#),  // where a YAML number would render 2.0230101e+07
        ("a", "007", #"{a: "007"}"#),
        ("a", "1.10", #"{a: "1.10"}"#),          // floats stay strings
        ("a", "yes", #"{a: "yes"}"#),            // YAML 1.1 booleans are not --set booleans
        ("a", "v0.8.0", #"{a: "v0.8.0"}"#),
        // Names: dots nest, a backslash escapes.
        (#"a\.b.c"#, "x", #"{a.b: {c: "x"}}"#),
        ("a", #"x\,y"#, #"{a: "x,y"}"#),
    ])
    func aValueIsTypedAndNestedAsHelmSetsIt(_ name: String, _ value: String, _ expected: String) throws {
        let layer = try #require(HelmSet.layer(name: name, value: value, file: "helmfile.yaml", line: 7))
        #expect(TemplateHarness.describe(layer) == expected)
        #expect(layer.file == "helmfile.yaml" && layer.line == 7)
    }

    @Test func aListIsTypedItemByItem() throws {
        let layer = try #require(HelmSet.layer(name: "args", values: ["a", "true", "3"], file: "h", line: 1))
        #expect(TemplateHarness.describe(layer) == #"{args: ["a", true, "3"]}"#)
    }

    @Test(arguments: ["", "a..b", ".a", "a.", "list[0].b", "a[1]"])
    func namesChartsyncDoesNotFollowGiveNothing(_ name: String) {
        #expect(HelmSet.layer(name: name, value: "x", file: "h", line: 1) == nil)
    }

    @Test func aSetLayerMergesOverValuesFilesKeyByKey() throws {
        let files = try TemplateHarness.values("server:\n  image:\n    repository: grafana/grafana\n    tag: 4.6.3\n  replicas: 1\n")
        let set = try #require(HelmSet.layer(name: "server.image.tag", value: "5.0.0", file: "h", line: 1))
        let merged = ValueCoalescing.merge(set, over: files)
        #expect(TemplateHarness.describe(merged) == #"{server: {image: {repository: grafana/grafana, tag: "5.0.0"}, replicas: 1}}"#)
        // A set over a scalar makes the path a mapping, as strvals does.
        let over = ValueCoalescing.merge(try #require(HelmSet.layer(name: "server.replicas.max", value: "3", file: "h", line: 1)), over: merged)
        #expect(TemplateHarness.describe(over["server"]!["replicas"]!) == #"{max: "3"}"#)
    }
}
