@testable import ChartSync
import ChartSyncCore
import ChartSyncIndex
import ChartSyncTemplate
import Testing

/// The comparisons `diff` makes, one rule per case.
@Suite struct ChartComparisonTests {
    static func values(_ text: String, file: String = "values.yaml") throws -> ValueNode {
        guard let node = try YAMLDocument.load(Array(text.utf8), source: file) else { return .emptyMap(file: file) }
        return ValueNode(node, file: file)
    }

    static func changes(_ old: String, _ new: String) throws -> [String] {
        ChartComparison.values(try values(old), try values(new)).map { change in
            "\(change.kind.rawValue) \(change.path) \(change.from ?? "-") \(change.to ?? "-")"
        }
    }

    @Test(arguments: [
        // Scalars keep how YAML wrote them: a quoted "1.0" and a plain 1.0 are different values.
        ("tag: \"1.0\"\n", "tag: 1.0\n", ["changed tag \"1.0\" 1.0"]),
        ("a:\n  b: 1\n  c: 2\n", "a:\n  b: 1\n  d: 3\n", ["added a.d - 3", "removed a.c 2 -"]),
        // List items by index; empty collections and nulls are leaves.
        ("l:\n  - x\n  - y\n", "l:\n  - x\n", ["removed l[1] y -"]),
        ("m: {}\nn: []\no: ~\n", "m: {}\nn: []\no: ~\n", []),
        ("m: {}\n", "m:\n  k: v\n", ["added m.k - v", "removed m {} -"]),
        // Keys with dots are quoted in the path.
        ("ann:\n  a.b/c: x\n", "ann:\n  a.b/c: y\n", ["changed ann.\"a.b/c\" x y"]),
        // A multi-line value is shown double-quoted, escaped.
        ("s: |\n  one\n  two\n", "s: one\n", ["changed s \"one\\ntwo\\n\" one"]),
    ])
    func defaultValuesAsKeyPaths(old: String, new: String, expected: [String]) throws {
        #expect(try Self.changes(old, new) == expected)
    }

    static func ignored(_ user: String, candidate: String, locked: String) throws -> [String] {
        ChartComparison.ignoredOverrides(try values(user, file: "site.yaml"), candidate: try values(candidate), locked: try values(locked))
            .map { "\($0.path) missing \($0.missing) at \($0.file):\($0.line)\($0.inLocked ? " (was there)" : "")" }
    }

    @Test(arguments: [
        // A key the candidate removed, with every leaf the file sets below it.
        ("old:\n  a: 1\n  b: 2\n", "keep: 1\n", "keep: 1\nold:\n  a: 0\n",
         ["old.a missing old at site.yaml:2 (was there)", "old.b missing old at site.yaml:3 (was there)"]),
        // A key under a mapping with other keys that never had it.
        ("image:\n  pullPolicy: Always\n", "image:\n  tag: x\n", "image:\n  tag: x\n", ["image.pullPolicy missing image.pullPolicy at site.yaml:2"]),
        // Open places: an empty mapping, a null, a list or scalar default, global, top-level tags.
        ("podAnnotations:\n  a: b\n", "podAnnotations: {}\nx: 1\n", "x: 1\n", []),
        ("resources:\n  limits:\n    cpu: 1\n", "resources: ~\nx: 1\n", "x: 1\n", []),
        ("env:\n  A: b\n", "env: []\n", "env: []\n", []),
        ("global:\n  anything: 1\nsub:\n  global:\n    x: 1\n", "sub:\n  y: 1\n", "sub:\n  y: 1\n", []),
        ("tags:\n  extra: true\n", "tags:\n  base: true\n", "tags:\n  base: true\n", []),
        // A list the file sets replaces the default: nothing below it is checked.
        ("l:\n  - z: 1\n", "l:\n  - y: 1\n", "l: []\n", []),
        // Nested: the first missing key is named.
        ("a:\n  b:\n    c: 1\n", "a:\n  x: 1\n", "a:\n  x: 1\n", ["a.b.c missing a.b at site.yaml:3"]),
    ])
    func overridesTheCandidateIgnores(user: String, candidate: String, locked: String, expected: [String]) throws {
        #expect(try Self.ignored(user, candidate: candidate, locked: locked) == expected)
    }

    @Test func imagesPairTagChangesByRepository() throws {
        let old = try ["team/app:1.0", "team/gone:1", "quay.io/x/y:2", "team/multi:1", "team/multi:2"].map { try ImageReference(parsing: $0) }
        let new = try ["team/app:2.0", "team/new:1", "quay.io/x/y:2", "team/multi:3"].map { try ImageReference(parsing: $0) }
        let changes = ChartComparison.images(old, new)
        #expect(changes.added.map(\.description) == ["docker.io/team/new:1"])
        #expect(changes.removed.map(\.description) == ["docker.io/team/gone:1", "docker.io/team/multi:2"])
        #expect(changes.changed.map { "\($0.from) -> \($0.to)" } == [
            "docker.io/team/app:1.0 -> docker.io/team/app:2.0", "docker.io/team/multi:1 -> docker.io/team/multi:3",
        ])
        #expect(changes.from.count == 5 && changes.to.count == 4)
    }

    @Test func filesByContentWithCRDsApart() {
        let old: [String: [UInt8]] = [
            "templates/a.yaml": Array("one\ntwo\n".utf8),
            "templates/gone.yaml": Array("x\n".utf8),
            "crds/c.yaml": Array("kind: CustomResourceDefinition\n".utf8),
            "charts/sub/crds/d.yaml": Array("d\n".utf8),
            "templates/same.yaml": Array("same\n".utf8),
        ]
        let new: [String: [UInt8]] = [
            "templates/a.yaml": Array("one\nthree\nfour\n".utf8),
            "templates/crd.yaml": Array("apiVersion: v1\nkind: 'CustomResourceDefinition'\n".utf8),
            "crds/c.yaml": Array("kind: CustomResourceDefinition\nspec: {}\n".utf8),
            "charts/sub/crds/d.yaml": Array("e\n".utf8),
            "templates/same.yaml": Array("same\n".utf8),
        ]
        let (templates, crds) = ChartComparison.files(old, new)
        #expect(templates.map { "\($0.kind.rawValue) \($0.path) +\($0.linesAdded) -\($0.linesRemoved)" }
            == ["changed templates/a.yaml +2 -1", "removed templates/gone.yaml +0 -1"])
        #expect(crds.map { "\($0.kind.rawValue) \($0.path) \($0.upgradedByHelm)" }
            == ["changed charts/sub/crds/d.yaml false", "changed crds/c.yaml false", "added templates/crd.yaml true"])
    }

    @Test func dependenciesByTheirValuesSection() {
        func info(_ chart: String, _ version: String?, _ condition: String? = nil) -> DependencyInfo {
            DependencyInfo(chart: chart, version: version, condition: condition, repository: nil)
        }
        let changes = ChartComparison.dependencies(
            [("db", info("postgresql", "1.0")), ("cache", info("redis", "1.0", "cache.enabled")), ("old", info("old", "1"))],
            [("cache", info("redis", "1.0", "cache.on")), ("db", info("postgresql", "2.0")), ("new", info("new", "1"))])
        #expect(changes.map { "\($0.kind.rawValue) \($0.name)" } == ["changed cache", "changed db", "added new", "removed old"])
    }
}
