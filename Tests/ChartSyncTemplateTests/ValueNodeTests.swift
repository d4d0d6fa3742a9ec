@testable import ChartSyncTemplate
import Testing

/// A plain or quoted scalar (as YAML text) and how Go templates see it.
struct ScalarCase: Sendable, CustomTestStringConvertible {
    let yaml: String
    let type: String
    let truthy: Bool
    var testDescription: String { yaml }
}

/// A number as written in values.yaml and as Helm renders it (nil when it is not rendered otherwise).
struct NumberCase: Sendable, CustomTestStringConvertible {
    let written: String
    let rendered: String?
    var testDescription: String { written }
}

let scalarCases: [ScalarCase] = [
    ScalarCase(yaml: "true", type: "bool true", truthy: true),
    ScalarCase(yaml: "yes", type: "bool true", truthy: true),
    ScalarCase(yaml: "Off", type: "bool false", truthy: false),
    ScalarCase(yaml: "\"true\"", type: "string", truthy: true),
    ScalarCase(yaml: "0", type: "number zero", truthy: false),
    ScalarCase(yaml: "0.0", type: "number zero", truthy: false),
    ScalarCase(yaml: "0x10", type: "number", truthy: true),
    ScalarCase(yaml: "1_000", type: "number", truthy: true),
    ScalarCase(yaml: "\"0\"", type: "string", truthy: true),
    ScalarCase(yaml: "\"\"", type: "string", truthy: false),
    ScalarCase(yaml: "v1.2", type: "string", truthy: true),
    ScalarCase(yaml: "null", type: "null", truthy: false),
    ScalarCase(yaml: "{}", type: "map", truthy: false),
    ScalarCase(yaml: "[x]", type: "list", truthy: true),
]

let numberCases: [NumberCase] = [
    NumberCase(written: "1.10", rendered: "1.1"),
    NumberCase(written: "1.0", rendered: "1"),
    NumberCase(written: "100000", rendered: nil),
    NumberCase(written: "1000000", rendered: "1e+06"),
    NumberCase(written: "20230101", rendered: "2.0230101e+07"),
    NumberCase(written: "0.0001", rendered: nil),
    NumberCase(written: "0.00001", rendered: "1e-05"),
    NumberCase(written: "0x1F", rendered: "31"),
    NumberCase(written: "017", rendered: "15"),
    NumberCase(written: "1_000", rendered: "1000"),
    NumberCase(written: "7", rendered: nil),
]

@Suite struct ValueNodeTests {
    @Test(arguments: scalarCases)
    func scalarTypeAndTruth(_ c: ScalarCase) throws {
        let node = try #require(try TemplateHarness.values("v: \(c.yaml)")["v"])
        let type: String
        switch node.content {
        case .null: type = "null"
        case .map: type = "map"
        case .list: type = "list"
        case .scalar:
            switch node.scalarType {
            case .string?: type = "string"
            case .bool(let value)?: type = "bool \(value)"
            case .number(let isZero)?: type = isZero ? "number zero" : "number"
            case nil: type = "?"
            }
        }
        #expect(type == c.type)
        #expect(node.isTruthy == c.truthy)
    }

    @Test(arguments: numberCases)
    func unquotedNumbersAsHelmRendersThem(_ c: NumberCase) throws {
        let node = try #require(try TemplateHarness.values("v: \(c.written)")["v"])
        #expect(node.text == c.written)
        #expect(node.helmRenderingIfDifferent == c.rendered)
    }

    @Test func mergeKeysAreExpanded() throws {
        let values = try TemplateHarness.values("base: &b\n  a: 1\n  c: 0\nx:\n  <<: *b\n  c: 2\n")
        #expect(TemplateHarness.describe(try #require(values["x"])) == "{c: 2, a: 1}")
    }

    @Test func pathsAndEdits() throws {
        var values = try TemplateHarness.values("a:\n  b:\n    c: x\n")
        #expect(values.at("a.b.c")?.text == "x")
        #expect(values.at("a.z") == nil)
        #expect(values.at("a.b.c")?.line == 3)
        values.set("d", try TemplateHarness.values("e: 1"))
        values.remove("a")
        #expect(TemplateHarness.describe(values) == "{d: {e: 1}}")
    }
}
