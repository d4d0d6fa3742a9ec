import ChartSyncCore
import ChartSyncIndex
import ChartSyncTestSupport
import ChartSyncTransport
@testable import ChartSync
import Foundation
import Testing

/// Differential tests against real Helm 4: for real charts' version lists and many constraint
/// forms, chartsync resolves the version Helm pulls. The served index is one chartsync wrote
/// (so Helm also proves it can read it); every URL serves the same small tarball, and the name
/// of the file Helm saves tells which version it chose.
@Suite struct HelmInteropTests {
    static let charts: [(index: String, chart: String)] = [
        ("indexes/grafana-helm-charts-index.yaml.gz", "grafana-operator"),
        ("indexes/grafana-helm-charts-index.yaml.gz", "loki"),
        ("indexes/grafana-helm-charts-index.yaml.gz", "mimir-distributed"),
        ("indexes/grafana-helm-charts-index.yaml.gz", "alloy-operator"),
        ("indexes/argoproj-argo-helm-index.yaml.gz", "argo-workflows"),
        ("indexes/argoproj-argo-helm-index.yaml.gz", "argo-cd"),
        ("indexes/NVIDIA-k8s-device-plugin-index.yaml.gz", "nvidia-device-plugin"),
        ("indexes/bitnami-charts-index.yaml.gz", "nginx"),
    ]

    static let constraints: [String?] = [
        nil, "*", ">0.0.0-0", "~1", "^0.2", "5.x", "<5.21", ">=5.20.0 <5.22.0", "v5.20.0", "5.20.0",
        "0.46.00", "0.46", "~0.46.0", "^1.8.0-0", ">= 1.19.0-0", "0.2.6-beta.2", "5.6.0-weekly.314",
        "~5.6.0-0", "1.x || 2.x", "2.0.0 - 3.0.0", "!=0.46.0", "0.0.*", ">0.1 <0.14", "^0.7.0-rc.1",
        "~0.7.0-rc.1", "13.x.x", "~> 13.1", ">=6, <7", "=6.0", "^7.0.0-0 <7.3", "0.20.0-rc.1 || 0.15",
    ]

    @Test func chartsyncResolvesWhatHelmPulls() throws {
        // One index per chart (Helm reads the whole index for every pull), written by chartsync
        // from the real version lists, with relative URLs.
        let www = try TemporaryDirectory()
        for (file, chart) in Self.charts {
            let index = try IndexReader().read(contentsOf: try Fixtures.gunzipped(file), charts: [chart])
            var entries: [IndexWriter.Entry] = []
            for v in index.versions(of: chart) where !entries.contains(where: { $0.metadata.version == v.version }) {
                entries.append(IndexWriter.Entry(
                    metadata: ChartMetadata(apiVersion: v.apiVersion, name: chart, version: v.version, appVersion: v.appVersion),
                    digest: v.digest ?? Digest(bytes: [UInt8](repeating: 0, count: 32)),
                    urls: ["\(chart)-\(v.version).tgz"], created: v.created ?? "2026-01-01T00:00:00Z"))
            }
            try www.write(chart + "/index.yaml", Array(IndexWriter.yaml(entries: entries, generated: "2026-01-01T00:00:00Z").utf8))
        }
        try FileManager.default.copyItem(atPath: Fixtures.packageRoot + "/examples/repo/hello-web-1.0.0.tgz",
                                         toPath: www.file("any.tgz"))
        let nginx = try StaticServer(root: www.path, options: .init(snippets: ["location / { try_files $uri /any.tgz; }"]))
        defer { nginx.stop() }

        let cases = Self.charts.flatMap { item in
            Self.constraints.map { Helm.Case(repo: nginx.url(item.chart), chart: item.chart, version: $0) }
        }
        let helm = try Helm.resolve(cases)
        #expect(helm.count == cases.count)

        let searcher = Searcher(client: CurlHTTPClient())
        var agreed = 0, found = 0
        for (c, answer) in zip(cases, helm) {
            let constraint = try c.version.map { try VersionConstraint(parsing: $0) }
            let ours = try searcher.search(SearchQuery(repository: c.repo, chart: c.chart, constraint: constraint)).first
            let ourFile = ours.map { "\(c.chart)-\($0.version.version).tgz" }
            #expect(ourFile == answer.file, "\(c.chart) \(c.version ?? "(none)"): chartsync \(ourFile ?? "no match"), helm \(answer.file ?? answer.error ?? "?")")
            if ourFile == answer.file { agreed += 1 }
            if answer.file != nil { found += 1 }
        }
        // The table must exercise real matches, not only agreement on "nothing found".
        #expect(found > cases.count / 3, "only \(found) of \(cases.count) cases matched in Helm")
        #expect(agreed == cases.count)
    }

    /// Helm loads and renders the charts of the embedded example repository.
    @Test func helmLoadsTheExampleCharts() throws {
        let repo = Fixtures.packageRoot + "/examples/repo"
        let files = try FileManager.default.contentsOfDirectory(atPath: repo).filter { $0.hasSuffix(".tgz") }.sorted()
        let script = """
            import sys, helm_python.chart as c
            for path in sys.argv[1:]:
                ch = c.Chart.load(path)
                print(ch.name, ch.version)
            """
        let output = try runCommand(["python3", "-c", script] + files.map { repo + "/" + $0 })
        let expected = files.map { $0.dropLast(4) }.map { name -> String in
            let dash = name.range(of: "-", options: .backwards, range: name.startIndex..<(name.firstIndex(where: \.isNumber) ?? name.endIndex))!
            return name[..<dash.lowerBound] + " " + name[dash.upperBound...]
        }
        #expect(output.split(separator: "\n").map(String.init) == expected)
    }
}
