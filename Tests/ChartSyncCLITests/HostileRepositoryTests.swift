import ChartSyncTestSupport
import Foundation
import Testing

/// Repositories that try to make `chartsync pull` do what it must not: read local files because
/// an index says so, or decompress a chart without end. Each pull fails naming the chart and
/// vendors nothing.
@Suite struct HostileRepositoryTests {
    private static let chartList = """
        repositories:
          - name: r
            url: {{URL}}
        charts:
          - name: {{CHART}}
            repository: r
            version: "{{VERSION}}"

        """

    /// The project's snapshot: a refused pull of a fresh project leaves no charts/ either.
    private func vendored(_ project: PullProject) throws -> [String] {
        #expect(!FileManager.default.fileExists(atPath: project.path + "/charts"))
        return try project.snapshot()
    }

    private func list(url: String, chart: String, version: String) -> String {
        Self.chartList.replacingOccurrences(of: "{{URL}}", with: url).replacingOccurrences(of: "{{CHART}}", with: chart)
            .replacingOccurrences(of: "{{VERSION}}", with: version)
    }

    /// An index served over HTTP whose chart URL is `file:///…`, pointing at a real tarball whose
    /// digest matches, so only the scheme rule can refuse it: exit 3 naming the chart and the URL;
    /// only the index was requested, nothing is vendored and no versions.lock is written.
    @Test func remoteIndexCannotPointAtLocalFiles() throws {
        let tarball = Fixtures.packageRoot + "/examples/repo/hello-web-1.1.0.tgz"
        let local = "file://" + tarball
        let digest = try sha256Hex(of: tarball)
        let index = """
            apiVersion: v1
            entries:
              hello-web:
              - apiVersion: v2
                name: hello-web
                version: 1.1.0
                digest: \(digest)
                urls:
                - \(local)

            """
        let server = try FaultServer()
        defer { server.stop() }
        _ = try FaultRepository(server: server, tarballs: [:], index: index)
        let project = try PullProject(chartList: list(url: server.url(""), chart: "hello-web", version: "1.1.0"))
        let before = try project.snapshot()
        let run = try project.pull()
        #expect(run.status == 3, "\(run.stderr)")
        #expect(run.stderr.contains("chart \"hello-web\" 1.1.0: the index of \(server.url("")) names \(local)"), "\(run.stderr)")
        #expect(run.stderr.contains("downloaded over http(s) only"), "\(run.stderr)")
        #expect(try server.requests().map(\.path) == ["/index.yaml"])
        #expect(try vendored(project) == before)
        #expect(!project.exists("versions.lock"))
    }

    /// A chart tarball of about 300 KB whose first entry is 300 MB of zeros (then
    /// `bomb/Chart.yaml`), listed with its right digest: pull stops at the extraction limit
    /// ("decompresses to more than") instead of inflating it all, with or without unpack, and
    /// vendors nothing.
    @Test(arguments: [false, true])
    func decompressionBombIsRefused(_ unpack: Bool) throws {
        let project = try PullProject(chartList: list(url: "repo", chart: "bomb", version: "1.0.0") + (unpack ? "    unpack: true\n" : ""))
        let tarball = project.path + "/repo/bomb-1.0.0.tgz"
        try FileManager.default.createDirectory(atPath: project.path + "/repo", withIntermediateDirectories: true)
        try DecompressionBomb.write(to: tarball)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: tarball)[.size] as? Int)
        #expect(size < 4 << 20)
        // The index is written by hand: `chartsync index` reads Chart.yaml and would refuse it too.
        try project.directory.write("repo/index.yaml", Array("""
            apiVersion: v1
            entries:
              bomb:
              - apiVersion: v2
                name: bomb
                version: 1.0.0
                digest: \(try sha256Hex(of: tarball))
                urls:
                - bomb-1.0.0.tgz

            """.utf8))
        let before = try project.snapshot()
        let run = try project.pull()
        #expect(run.status != 0)
        #expect(run.stderr.contains("decompresses to more than"), "\(run.stderr)")
        #expect(run.stderr.contains("chart \"bomb\" 1.0.0: "), "\(run.stderr)")
        #expect(try vendored(project) == before)
        #expect(!project.exists("versions.lock"))
        #expect(try project.leftovers().isEmpty)
    }
}
