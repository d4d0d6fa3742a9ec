import ChartSyncTemplate
import Testing

/// Two layers of values (YAML) and what coalescing the higher over the lower gives.
struct CoalesceCase: Sendable, CustomTestStringConvertible {
    let name: String
    let high: String
    let low: String
    let result: String
    var testDescription: String { name }
}

/// A parent's computed values (YAML) and the section its subchart `sub` gets (or `not a mapping`).
struct SectionCase: Sendable, CustomTestStringConvertible {
    let name: String
    let parent: String
    let section: String
    var testDescription: String { name }
}

let coalesceCases: [CoalesceCase] = [
    CoalesceCase(name: "nested maps merge", high: "a:\n  x: 1\n", low: "a:\n  y: 2\n", result: "{a: {x: 1, y: 2}}"),
    CoalesceCase(name: "the parent overrides a default", high: "tag: \"2\"", low: "tag: \"1\"", result: #"{tag: "2"}"#),
    CoalesceCase(name: "keys only in the defaults come after", high: "b: 1", low: "a: 2\nb: 3", result: "{b: 1, a: 2}"),
    CoalesceCase(name: "null removes a default key", high: "a: null", low: "a: 1\nb: 2", result: "{b: 2}"),
    CoalesceCase(name: "~ removes a default key", high: "a: ~", low: "a: 1", result: "{}"),
    CoalesceCase(name: "an empty value removes a default key", high: "a:", low: "a: 1", result: "{}"),
    CoalesceCase(name: "null removes a nested default", high: "img:\n  tag: null\n", low: "img:\n  repo: r\n  tag: t\n", result: "{img: {repo: r}}"),
    CoalesceCase(name: "null removes a whole default map", high: "img: null", low: "img:\n  repo: r\n", result: "{}"),
    CoalesceCase(name: "null without a default stays", high: "a: null", low: "b: 1", result: "{a: null, b: 1}"),
    CoalesceCase(name: "a quoted \"null\" is a string", high: "a: \"null\"", low: "a: 1", result: #"{a: "null"}"#),
    CoalesceCase(name: "a scalar over a map wins", high: "a: x", low: "a:\n  b: 1\n", result: "{a: x}"),
    CoalesceCase(name: "a map over a scalar wins", high: "a:\n  b: 1\n", low: "a: x", result: "{a: {b: 1}}"),
    CoalesceCase(name: "lists are replaced, not merged", high: "l: [1]", low: "l: [2, 3]", result: "{l: [1]}"),
    CoalesceCase(name: "an empty map still merges", high: "a: {}", low: "a:\n  b: 1\n", result: "{a: {b: 1}}"),
    CoalesceCase(name: "nothing over defaults is the defaults", high: "", low: "a: 1\nb:\n  c: 2\n", result: "{a: 1, b: {c: 2}}"),
    CoalesceCase(name: "three levels deep", high: "a:\n  b:\n    c: 1\n", low: "a:\n  b:\n    d: 2\n  e: 3\n", result: "{a: {b: {c: 1, d: 2}, e: 3}}"),
]

/// Two `-f` values files (YAML, `high` given after `low`) and what Helm's mergeMaps makes of them.
let mergeCases: [CoalesceCase] = [
    CoalesceCase(name: "the later file wins", high: "tag: \"2\"", low: "tag: \"1\"", result: #"{tag: "2"}"#),
    CoalesceCase(name: "nested maps merge", high: "a:\n  x: 1\n", low: "a:\n  y: 2\n", result: "{a: {y: 2, x: 1}}"),
    CoalesceCase(name: "keys of the later file come after", high: "b: 1", low: "a: 2", result: "{a: 2, b: 1}"),
    CoalesceCase(name: "a null is kept (it deletes the chart's default later)", high: "a: null", low: "a: 1\nb: 2", result: "{a: null, b: 2}"),
    CoalesceCase(name: "a nested null is kept", high: "img:\n  tag: ~\n", low: "img:\n  repo: r\n  tag: t\n", result: "{img: {repo: r, tag: null}}"),
    CoalesceCase(name: "a scalar over a map wins", high: "a: x", low: "a:\n  b: 1\n", result: "{a: x}"),
    CoalesceCase(name: "a map over a scalar wins", high: "a:\n  b: 1\n", low: "a: x", result: "{a: {b: 1}}"),
    CoalesceCase(name: "lists are replaced", high: "l: [1]", low: "l: [2, 3]", result: "{l: [1]}"),
    CoalesceCase(name: "an empty file changes nothing", high: "", low: "a: 1", result: "{a: 1}"),
]

let sectionCases: [SectionCase] = [
    SectionCase(name: "the section as it is", parent: "sub:\n  a: 1\n", section: "{a: 1}"),
    SectionCase(name: "globals are copied down", parent: "global:\n  r: x\nsub:\n  a: 1\n", section: "{a: 1, global: {r: x}}"),
    SectionCase(name: "the parent's globals win over the section's",
                parent: "global:\n  r: p\nsub:\n  global:\n    r: s\n    o: 1\n", section: "{global: {r: p, o: 1}}"),
    SectionCase(name: "no section is an empty one, with globals", parent: "global:\n  r: x\n", section: "{global: {r: x}}"),
    SectionCase(name: "a null section is an empty one", parent: "sub: null", section: "{}"),
    SectionCase(name: "a list section is not a mapping", parent: "sub: [1]", section: "not a mapping (line 1)"),
    SectionCase(name: "a scalar section is not a mapping", parent: "a: 1\nsub: x", section: "not a mapping (line 2)"),
    SectionCase(name: "globals that are not a map are not passed", parent: "global: x\nsub:\n  a: 1\n", section: "{a: 1}"),
]

@Suite struct ValueCoalescingTests {
    @Test(arguments: coalesceCases)
    func coalesce(_ c: CoalesceCase) throws {
        let result = ValueCoalescing.coalesce(try TemplateHarness.values(c.high), over: try TemplateHarness.values(c.low))
        #expect(TemplateHarness.describe(result) == c.result)
    }

    @Test(arguments: mergeCases)
    func merge(_ c: CoalesceCase) throws {
        let result = ValueCoalescing.merge(try TemplateHarness.values(c.high), over: try TemplateHarness.values(c.low))
        #expect(TemplateHarness.describe(result) == c.result)
    }

    @Test func mergedFilesOverDefaultsDeleteWhatANullNames() throws {
        // helm template -f a -f b: b's null survives the merge, then removes the chart's default.
        let a = try TemplateHarness.values("image:\n  tag: \"2\"\n")
        let b = try TemplateHarness.values("image:\n  registry: null\n")
        let defaults = try TemplateHarness.values("image:\n  registry: docker.io\n  repository: r\n  tag: \"1\"\n")
        let values = ValueCoalescing.coalesce(ValueCoalescing.merge(b, over: a), over: defaults)
        #expect(TemplateHarness.describe(values) == #"{image: {tag: "2", repository: r}}"#)
    }

    @Test(arguments: sectionCases)
    func subchartSection(_ c: SectionCase) throws {
        switch ValueCoalescing.subchartSection("sub", of: try TemplateHarness.values(c.parent), emptyFile: "values.yaml") {
        case .section(let section): #expect(TemplateHarness.describe(section) == c.section)
        case .notAMapping(let node): #expect("not a mapping (line \(node.line))" == c.section)
        }
    }

    @Test func subchartValuesAreItsSectionOverItsDefaultsWithTheParentsGlobals() throws {
        // Helm's coalesceDeps then coalesce for one subchart: the parent's section and globals
        // over the subchart's values.yaml.
        let parent = try TemplateHarness.values("global:\n  registry: parent.example\nsub:\n  image:\n    tag: \"2\"\n")
        let defaults = try TemplateHarness.values("image:\n  repository: r\n  tag: \"1\"\nglobal:\n  registry: sub.example\n  own: 1\n",
                                                  file: "charts/sub/values.yaml")
        guard case .section(let section) = ValueCoalescing.subchartSection("sub", of: parent, emptyFile: "values.yaml") else {
            Issue.record("no section")
            return
        }
        let values = ValueCoalescing.coalesce(section, over: defaults)
        #expect(TemplateHarness.describe(values) == #"{image: {tag: "2", repository: r}, global: {registry: parent.example, own: 1}}"#)
        // Each value remembers the file it came from.
        #expect(values.at("image.repository")?.file == "charts/sub/values.yaml")
        #expect(values.at("image.tag")?.file == "values.yaml")
    }
}
