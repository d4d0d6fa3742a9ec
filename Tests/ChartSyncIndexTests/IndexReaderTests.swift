import ChartSyncCore
@testable import ChartSyncIndex
import ChartSyncTestSupport
import Foundation
import Testing

private func read(_ path: String, charts: Set<String>? = nil) throws -> (IndexFile, [IndexWarning]) {
    var warnings: [IndexWarning] = []
    let index = try IndexReader().read(contentsOf: path, charts: charts) { warnings.append($0) }
    return (index, warnings)
}

private func read(text: String) throws(IndexError) -> IndexFile {
    let bytes = Array(text.utf8)
    return try bytes.withUnsafeBytes { raw in
        Result { () throws(IndexError) -> IndexFile in try IndexReader().read(bytes: raw, source: "test.yaml") }
    }.get()
}

private func readError(text: String) -> IndexError? {
    do {
        _ = try read(text: text)
        return nil
    } catch {
        return error
    }
}

struct RealIndexCase: Sendable, CustomStringConvertible {
    let file: String, charts: Int, entries: Int
    var description: String { file }
}

@Suite struct RealIndexes {
    /// Counts from ../shared/fixtures/README.md (made with PyYAML and grep).
    @Test(arguments: [
        RealIndexCase(file: "indexes/bitnami-charts-index.yaml.gz", charts: 108, entries: 3448),
        RealIndexCase(file: "indexes/grafana-helm-charts-index.yaml.gz", charts: 41, entries: 3591),
        RealIndexCase(file: "indexes/argoproj-argo-helm-index.yaml.gz", charts: 11, entries: 1628),
        RealIndexCase(file: "indexes/NVIDIA-k8s-device-plugin-index.yaml.gz", charts: 2, entries: 86),
    ])
    func loadsEveryEntry(_ c: RealIndexCase) throws {
        let (index, warnings) = try read(try Fixtures.gunzipped(c.file))
        #expect(index.apiVersion == "v1")
        #expect(index.entries.count == c.charts)
        #expect(index.entries.values.map(\.count).reduce(0, +) == c.entries)
        // Only the known duplicate versions are worth a warning; nothing is dropped.
        #expect(warnings.allSatisfy { $0.message.contains("times (lines") })
        for (name, versions) in index.entries {
            #expect(versions.allSatisfy { $0.name == name })
            #expect(zip(versions, versions.dropFirst()).allSatisfy { $0.semver >= $1.semver }, "\(name) newest first")
            #expect(versions.allSatisfy { !$0.urls.isEmpty })
        }
    }

    @Test func bitnamiMixesPrefixedAndBareDigests() throws {
        let (index, _) = try read(try Fixtures.gunzipped("indexes/bitnami-charts-index.yaml.gz"))
        let all = index.entries.values.flatMap { $0 }
        #expect(all.allSatisfy { $0.digest != nil })
        #expect(all.filter { $0.digestText!.hasPrefix("sha256:") }.count == 1240)
        #expect(all.filter { !$0.digestText!.hasPrefix("sha256:") }.count == 2208)
        #expect(all.filter(\.deprecated).count == 9)
        #expect(all.filter { $0.type == "library" }.count == 28)
    }

    @Test func grafanaDuplicatesAndVPrefixedVersions() throws {
        let (index, warnings) = try read(try Fixtures.gunzipped("indexes/grafana-helm-charts-index.yaml.gz"))
        #expect(warnings.count == 2)
        #expect(warnings.contains { $0.message.contains("alloy-operator") && $0.message.contains("0.2.6-beta.2") })
        #expect(warnings.contains { $0.message.contains("mimir-distributed") && $0.message.contains("5.6.0-weekly.314") })
        let operatorVersions = index.versions(of: "grafana-operator").map(\.version)
        #expect(operatorVersions.contains("v5.20.0"))
        let i5210 = try #require(operatorVersions.firstIndex(of: "5.21.1"))
        let iv5200 = try #require(operatorVersions.firstIndex(of: "v5.20.0"))
        #expect(i5210 < iv5200)
        let all = index.entries.values.flatMap { $0 }
        #expect(all.filter { $0.appVersion == nil }.count == 36)
        #expect(all.filter { !($0.created?.hasSuffix("Z") ?? true) }.count == 473) // grep: 210 "+01:00" and 263 "+02:00"
        #expect(all.filter(\.semver.isPrerelease).count == 255)
    }

    @Test func argoNonSemverVersionLoads() throws {
        let (index, _) = try read(try Fixtures.gunzipped("indexes/argoproj-argo-helm-index.yaml.gz"))
        let v = try #require(index.versions(of: "argo-workflows").first { $0.version == "0.46.00" })
        #expect(v.semver == (try SemanticVersion(parsing: "0.46.0")))
        #expect(index.entries.values.flatMap { $0 }.filter { $0.urls.first?.contains("://") == false }.count == 328)
    }

    @Test func onlyTheRequestedChartIsBuilt() throws {
        let path = try Fixtures.gunzipped("indexes/grafana-helm-charts-index.yaml.gz")
        let (full, _) = try read(path)
        let (one, warnings) = try read(path, charts: ["loki"])
        #expect(one.entries.keys.sorted() == ["loki"])
        #expect(one.versions(of: "loki") == full.versions(of: "loki"))
        #expect(warnings.isEmpty)
    }
}

@Suite struct HelmTestdata {
    private func verifyLocalIndex(_ index: IndexFile) {
        #expect(index.entries.keys.sorted() == ["alpine", "chartWithNoURL", "nginx"])
        let alpine = index.versions(of: "alpine")
        #expect(alpine.map(\.version) == ["1.0.0"])
        #expect(alpine.first?.urls == ["https://charts.helm.sh/stable/alpine-1.0.0.tgz",
                                       "http://storage2.googleapis.com/kubernetes-charts/alpine-1.0.0.tgz"])
        #expect(alpine.first?.digestText == "sha256:1234567890abcdef")
        #expect(index.versions(of: "nginx").map(\.version) == ["0.2.0", "0.1.0"])
        let noURL = index.versions(of: "chartWithNoURL")
        #expect(noURL.map(\.version) == ["1.0.0"])
        #expect(noURL.first?.urls == [])
    }

    @Test(arguments: ["local-index.yaml", "local-index-unordered.yaml", "local-index.json",
                      "chartmuseum-index.yaml", "local-index-annotations.yaml"])
    func localIndexVariants(_ file: String) throws {
        let (index, warnings) = try read(Fixtures.path("helm-testdata/pkg-repo-v1/" + file))
        verifyLocalIndex(index)
        #expect(warnings.isEmpty)
        if file == "local-index-annotations.yaml" { #expect(index.annotations == ["helm.sh/test": "foo bar"]) }
    }

    @Test func serverIndexWithoutEntryAPIVersion() throws {
        let (index, _) = try read(Fixtures.path("helm-testdata/pkg-repo-v1/server/index.yaml"))
        #expect(index.versions(of: "nginx").map(\.version) == ["0.2.0", "0.1.0"])
        #expect(index.versions(of: "nginx").allSatisfy { $0.apiVersion == "v1" })
        #expect(index.versions(of: "alpine").map(\.version) == ["1.0.0"])
    }

    @Test func duplicateChartKeyIsAnError() throws {
        #expect(throws: IndexError.self) {
            try read(Fixtures.path("helm-testdata/inline-from-index_test.go/indexWithDuplicates.yaml"))
        }
        do {
            _ = try read(Fixtures.path("helm-testdata/inline-from-index_test.go/indexWithDuplicates.yaml"))
        } catch let error as IndexError {
            #expect(error.description.contains("duplicate key \"nginx\""))
            #expect(error.description.contains("line "))
        }
    }

    @Test func emptyAndInvalidEntriesAreDropped() throws {
        let (index, warnings) = try read(Fixtures.path("helm-testdata/inline-from-index_test.go/indexWithEmptyEntry.yaml"))
        #expect(index.entries.isEmpty)
        #expect(warnings.count == 4)
    }

    @Test(arguments: ["indexWithDuplicatesInChartDeps.yaml", "indexWithDuplicatesInLastChartDeps.yaml"])
    func versionlessEntryIsFiltered(_ file: String) throws {
        let (index, _) = try read(Fixtures.path("helm-testdata/inline-from-index_test.go/" + file))
        let nginx = index.versions(of: "nginx")
        #expect(!nginx.isEmpty)
        #expect(!nginx.contains { $0.name == "alpine" })
    }

    @Test func legacyUnversionedIndexIsRejected() {
        #expect(throws: IndexError.self) {
            try read(Fixtures.path("helm-testdata/legacy-release-3.0/unversioned-index.yaml"))
        }
    }

    @Test(arguments: ["encoded-url-index.yaml", "kubernetes-charts-index.yaml", "malformed-index.yaml",
                      "testing-basicauth-index.yaml", "testing-ca-file-index.yaml", "testing-https-index.yaml",
                      "testing-https-insecureskip-tls-verify-index.yaml", "testing-index.yaml",
                      "testing-querystring-index.yaml", "testing-relative-index.yaml",
                      "testing-relative-trailing-slash-index.yaml"])
    func downloaderIndexesLoad(_ file: String) throws {
        let (index, warnings) = try read(Fixtures.path("helm-testdata/pkg-downloader/repository/" + file))
        #expect(!index.entries.isEmpty)
        #expect(warnings.isEmpty)
    }

    @Test func resolverIndex() throws {
        let (index, _) = try read(Fixtures.path("helm-testdata/internal-resolver/repository/kubernetes-charts-index.yaml"))
        #expect(index.best(of: "alpine", matching: try VersionConstraint(parsing: ">=0.1.0"))?.version == "0.2.0")
        #expect(index.best(of: "alpine", matching: try VersionConstraint(parsing: ">=1.0.0")) == nil)
        #expect(index.best(of: "redis", matching: try VersionConstraint(parsing: "1.0.0")) == nil)
        #expect(throws: VersionConstraintError.self) { try VersionConstraint(parsing: ">a1") }
    }

    @Test func testingIndexPicksNewestAndFirstURL() throws {
        let (index, _) = try read(Fixtures.path("helm-testdata/pkg-downloader/repository/testing-index.yaml"))
        let newest = try #require(index.best(of: "alpine", matching: nil))
        #expect(RepositoryURL.resolve(base: "http://example.com", reference: newest.urls[0]) == "http://example.com/alpine-1.2.3.tgz")
        let old = try #require(index.best(of: "alpine", matching: try VersionConstraint(parsing: "0.2.0")))
        #expect(RepositoryURL.resolve(base: "http://example.com", reference: old.urls[0]) == "http://example.com/alpine-0.2.0.tgz")
    }
}

struct MalformedCase: Sendable, CustomStringConvertible {
    let name: String, text: String, line: Int, message: String
    var description: String { name }
}

@Suite struct MalformedIndexes {
    @Test(arguments: [
        MalformedCase(name: "bad indentation", text: "apiVersion: v1\nentries:\n  a:\n  - name: a\n     version: 1\n", line: 5, message: "mapping values are not allowed"),
        MalformedCase(name: "unclosed quote", text: "apiVersion: v1\nentries:\n  a:\n  - name: \"a\n", line: 5, message: "quoted scalar"),
        MalformedCase(name: "unknown field", text: "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    colour: red\n", line: 6, message: "unknown field \"colour\""),
        MalformedCase(name: "duplicate field", text: "apiVersion: v1\nentries:\n  a:\n  - name: a\n    name: b\n", line: 5, message: "duplicate key \"name\""),
        MalformedCase(name: "urls not a list", text: "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    urls: a.tgz\n", line: 6, message: "must be a list"),
        MalformedCase(name: "entries a list", text: "apiVersion: v1\nentries:\n- a\n", line: 3, message: "entries must be a mapping"),
        MalformedCase(name: "root a list", text: "- a\n- b\n", line: 1, message: "must be a mapping"),
        MalformedCase(name: "deprecated not bool", text: "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    deprecated: maybe\n", line: 6, message: "true or false"),
        MalformedCase(name: "unknown alias", text: "apiVersion: v1\nentries:\n  a: *nope\n", line: 3, message: "unknown alias"),
    ])
    func errorNamesLine(_ c: MalformedCase) throws {
        let error = try #require(readError(text: c.text))
        guard case .malformed(let yaml) = error else {
            Issue.record("expected malformed, got \(error)")
            return
        }
        #expect(yaml.line == c.line)
        #expect(yaml.message.contains(c.message), "\(yaml.message)")
        #expect(error.description.hasPrefix("test.yaml: line \(c.line)"))
    }

    @Test func emptyAndMissingAPIVersion() {
        #expect(readError(text: "")?.description == "test.yaml: empty index.yaml file")
        #expect(readError(text: "\n# nothing\n")?.description == "test.yaml: no API version specified")
        #expect(readError(text: "entries: {}\n")?.description == "test.yaml: no API version specified")
    }

    @Test func aliasBombIsRefusedQuickly() throws {
        var text = "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n    keywords: &k0 [x, x, x, x, x, x, x, x, x, x]\n"
        // Nine levels of ten-fold aliases: a billion keywords if expanded.
        text += "    sources: &k1 [*k0, *k0, *k0, *k0, *k0, *k0, *k0, *k0, *k0, *k0]\n"
        for level in 2...9 {
            text += "    x\(level): &k\(level) [" + Array(repeating: "*k\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        let error = try #require(readError(text: text))
        #expect(error.description.contains("alias bomb"))
    }

    @Test func absurdNestingIsRefused() throws {
        let text = "apiVersion: v1\nentries:\n  a: " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "\n"
        let error = try #require(readError(text: text))
        #expect(error.description.contains("nesting deeper than"))
    }

    @Test func nestingInSkippedChartsIsRefusedToo() throws {
        let text = "apiVersion: v1\nentries:\n  a: " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "\n"
        let bytes = Array(text.utf8)
        #expect(throws: IndexError.self) {
            try bytes.withUnsafeBytes { try IndexReader().read(bytes: $0, source: "t", charts: ["b"]) }
        }
    }

    @Test func jsonIgnoresUnknownFields() throws {
        let index = try read(text: #"{"apiVersion":"v1","entries":{"a":[{"name":"a","version":"1.0.0","colour":"red","urls":["a-1.0.0.tgz"]}]},"extra":1}"#)
        #expect(index.versions(of: "a").map(\.version) == ["1.0.0"])
    }

    @Test func anchorsAndAliasesWithinBudgetWork() throws {
        let index = try read(text: "apiVersion: v1\nentries:\n  a:\n  - &e\n    name: a\n    version: 1.0.0\n    urls: [a.tgz]\n  b:\n  - *e\n")
        #expect(index.versions(of: "b").first?.version == "1.0.0")
    }

    @Test func unsafeChartNamesAreDropped() throws {
        var warnings: [IndexWarning] = []
        let bytes = Array("apiVersion: v1\nentries:\n  x:\n  - name: ../x\n    version: 1.0.0\n  y:\n  - name: y\n    version: 1.0.0\n".utf8)
        let index = try bytes.withUnsafeBytes { try IndexReader().read(bytes: $0, source: "t") { warnings.append($0) } }
        #expect(index.entries.keys.sorted() == ["y"])
        #expect(warnings.first?.message.contains("name \"../x\" is invalid") == true)
    }
}
