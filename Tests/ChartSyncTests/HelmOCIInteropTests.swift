import ChartSyncCore
import ChartSyncIndex
import ChartSyncTestSupport
import ChartSyncTransport
@testable import ChartSync
import Foundation
import Testing

/// Differential tests against real Helm 4 over OCI: the real charts' version lists of
/// `HelmInteropTests` become the tags of one repository per chart in a real registry
/// (docker-registry on 127.0.0.1), and for every constraint form chartsync's search resolves the
/// version `helm pull oci://HOST/charts/NAME --version C --plain-http` pulls. Every tag names the
/// same small chart; Helm names the file it saves after the tag it chose, not after Chart.yaml.
@Suite struct HelmOCIInteropTests {
    /// A tag Helm and chartsync both accept from a registry (the distribution spec's tag grammar).
    static func isTag(_ text: String) -> Bool {
        text.range(of: "^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$", options: .regularExpression) != nil
    }

    @Test func chartsyncResolvesWhatHelmPullsFromARegistry() throws {
        let registry = try RegistryServer(options: .init(memoryStorage: true))
        defer { registry.stop() }
        let chart = Fixtures.packageRoot + "/examples/repo/hello-web-1.0.0.tgz"
        var pushed: [String: [String]] = [:]
        for (file, name) in HelmInteropTests.charts {
            let index = try IndexReader().read(contentsOf: try Fixtures.gunzipped(file), charts: [name])
            var tags: [String] = []
            // Every version as Helm writes its tag (`+` as `_`), also those that are not strict
            // semantic versions (`v1.2.3`): both sides must ignore them.
            for v in index.versions(of: name) {
                let tag = OCITag.of(v.version)
                if Self.isTag(tag) && !tags.contains(tag) { tags.append(tag) }
            }
            try #require(tags.count > 10, "\(name): only \(tags.count) versions")
            try registry.pushChart("charts/" + name, tags: [tags[0]], chart: chart)
            try registry.addTags("charts/" + name, tags: tags, like: tags[0])
            pushed[name] = tags
        }

        // The registry serves every tag.
        let registryClient = RegistryClient(endpoints: [registry.name: RegistryEndpoint(plainHTTP: true)])
        for (name, tags) in pushed {
            let served = try registryClient.tags(repository: "charts/" + name, registry: registry.name)
            #expect(Set(served) == Set(tags), "\(name): the registry serves \(served.count) tags of \(tags.count)")
        }

        let location = "oci://\(registry.name)/charts"
        let cases = HelmInteropTests.charts.flatMap { item in
            HelmInteropTests.constraints.map { Helm.Case(repo: location, chart: item.chart, version: $0, plainHTTP: true) }
        }
        let helm = try Helm.resolve(cases)
        try #require(helm.count == cases.count)

        let chartDigest = try sha256sum(file: chart)
        let searcher = Searcher(client: CurlHTTPClient(), registryClient: registryClient)
        var agreed = 0, found = 0
        for (c, answer) in zip(cases, helm) {
            let constraint = try c.version.map { try VersionConstraint(parsing: $0) }
            let ours = try searcher.search(SearchQuery(repository: c.repo, chart: c.chart, constraint: constraint)).first
            let ourFile = ours.map { "\(c.chart)-\($0.version.version).tgz" }
            #expect(ourFile == answer.file, "\(c.chart) \(c.version ?? "(none)"): chartsync \(ourFile ?? "no match"), helm \(answer.file ?? answer.error ?? "?")")
            if ourFile == answer.file { agreed += 1 }
            if answer.file != nil { found += 1 }
            // What Helm pulled is the one chart every tag names.
            if let sha256 = answer.sha256 { #expect(sha256 == chartDigest) }
        }
        // The table must exercise real matches, not only agreement on "nothing found".
        #expect(found > cases.count / 3, "only \(found) of \(cases.count) cases matched in Helm")
        #expect(agreed == cases.count, "agreed on \(agreed) of \(cases.count) (\(found) matched in Helm)")
    }
}
