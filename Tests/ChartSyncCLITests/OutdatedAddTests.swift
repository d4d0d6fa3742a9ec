import ChartSyncTestSupport
import Foundation
import Testing

/// `chartsync outdated` and `chartsync add` on the embedded example repository (served by nginx)
/// and a real registry: hello-web 1.0.0, 1.1.0 and 1.2.0-rc.1, hello-worker 0.4.0 and 0.5.0.
@Suite struct OutdatedAddTests {
    private static let repo = Fixtures.packageRoot + "/examples/repo"

    private struct Outdated: Decodable {
        struct Chart: Decodable, Equatable {
            let name: String
            let locked: String?
            let wanted: String?
            let latest: String?
            let behind: Bool
        }

        let charts: [Chart]
    }

    @Test func outdatedNamesLockedWantedAndLatestForIndexAndOCIRepositoriesAndWritesNothing() throws {
        let nginx = try StaticServer(root: Self.repo)
        defer { nginx.stop() }
        let registry = try PullOCITests.registryWithCharts()
        defer { registry.stop() }
        let project = try PullProject(chartList: """
            repositories:
              - name: ex
                url: \(nginx.url(""))
              - name: oci
                url: oci://\(registry.name)/charts
                plainHTTP: true
            charts:
              - name: hello-worker
                repository: ex
                version: "~0.4"
              - name: hello-web
                repository: oci
                version: "~1.0"

            """)
        let pulled = try project.pull()
        #expect(pulled.status == 0, "\(pulled.stderr)")
        let before = try project.snapshot()

        let run = try CLI.run(["outdated", "--json"], in: project.path)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try JSONDecoder().decode(Outdated.self, from: Data(run.stdout.utf8))
        #expect(report.charts == [
            .init(name: "hello-worker", locked: "0.4.0", wanted: "0.4.0", latest: "0.5.0", behind: true),
            .init(name: "hello-web", locked: "1.0.0", wanted: "1.0.0", latest: "1.1.0", behind: true),
        ])
        // One tag list for the OCI chart; nothing downloaded, nothing written.
        #expect(try project.snapshot() == before)

        let text = try CLI.run(["outdated"], in: project.path)
        #expect(text.stdout.contains("hello-web *"), "\(text.stdout)")
        #expect(text.stdout.contains("2 chart(s) behind (*)"), "\(text.stdout)")
        let gated = try CLI.run(["outdated", "--exit-code"], in: project.path)
        #expect(gated.status == 1)
        #expect(gated.stderr.contains("behind: hello-worker, hello-web"), "\(gated.stderr)")

        // Once the constraints admit the newest, nothing is behind.
        try project.setChartList(try project.read("chartsync.yaml")
            .replacingOccurrences(of: "\"~0.4\"", with: "\"~0.5\"").replacingOccurrences(of: "\"~1.0\"", with: "\"~1.1\""))
        #expect(try project.pull().status == 0)
        let current = try CLI.run(["outdated", "--exit-code"], in: project.path)
        #expect(current.status == 0, "\(current.stdout)\(current.stderr)")
        #expect(current.stdout.contains("every chart is at the newest version"), "\(current.stdout)")
    }

    @Test func addKeepsEveryOtherLineAndPulls() throws {
        let nginx = try StaticServer(root: Self.repo)
        defer { nginx.stop() }
        let original = """
            # our delivery for the GPU sites
            repositories:
                # the team mirror
                -   name: example
                    url: \(nginx.url(""))     # served by nginx

            charts:
                -   name: hello-web          # the front end
                    repository: example
                    version: "~1.1"

            # end of list

            """
        let project = try PullProject(chartList: original)
        let run = try CLI.run(["add", "hello-worker", "--version", ">=0.4 <1.0"], in: project.path)
        #expect(run.status == 0, "\(run.stderr)")
        let text = try project.read("chartsync.yaml")
        // Every line of the original is there, in order; the new entry follows the last chart,
        // indented like it.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let added = ["    -   name: hello-worker", "        repository: example", "        version: \">=0.4 <1.0\""]
        let originalLines = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let at = originalLines.firstIndex(of: "        version: \"~1.1\"")! + 1
        #expect(lines == Array(originalLines[..<at]) + added + Array(originalLines[at...]), "\(text)")
        #expect(project.exists("charts/external/hello-worker-0.5.0.tgz"))
        #expect(try project.read("versions.lock").contains("hello-worker"))

        // A listed chart is refused, naming its line; nothing changes.
        let before = try project.snapshot()
        let again = try CLI.run(["add", "hello-web"], in: project.path)
        #expect(again.status == 2)
        #expect(again.stderr.contains("chartsync.yaml:8: chart \"hello-web\" is already listed"), "\(again.stderr)")
        #expect(try project.snapshot() == before)

        // A chart the repository does not have: the pull fails and the list is put back.
        let missing = try CLI.run(["add", "hello-nothing"], in: project.path)
        #expect(missing.status == 2, "\(missing.stderr)")
        #expect(missing.stderr.contains("is as it was"), "\(missing.stderr)")
        #expect(try project.snapshot() == before)
    }

    @Test func addWithARepositoryURLAppendsTheRepository() throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        try registry.pushChart("charts/hello-web", tags: ["1.1.0"], chart: Self.repo + "/hello-web-1.1.0.tgz")
        let project = try PullProject(chartList: "repositories: []\ncharts: []\n")
        let run = try CLI.run(["add", "hello-web", "--repo", "oci://\(registry.name)/charts", "--plain-http"], in: project.path)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try project.read("chartsync.yaml") == """
            repositories:
              - name: charts
                url: "oci://\(registry.name)/charts"
                plainHTTP: true
            charts:
              - name: hello-web
                repository: charts

            """)
        #expect(project.exists("charts/external/hello-web-1.1.0.tgz"))
    }
}
