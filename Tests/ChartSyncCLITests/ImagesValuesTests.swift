import ChartSyncTestSupport
import Foundation
import Testing

/// `chartsync images` with the chart list's `values:` files on the built binary: the real
/// grafana 0.6.1 chart lists its curl image once the site's values switch the datasource job
/// on; images --check and the gate follow the values file; a missing file is exit 2 naming it.
@Suite struct ImagesValuesTests {
    /// A project vendoring grafana 0.6.1 from a folder repository, with `chartValues` appended to
    /// the chart's entry.
    private func grafanaProject(chartValues: String = "") throws -> PullProject {
        let project = try PullProject(chartList: Self.chartList(chartValues))
        try FileManager.default.createDirectory(atPath: project.path + "/repo", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.path("repo-grafana-helm-charts/packages/grafana-0.6.1.tgz"),
                                         toPath: project.path + "/repo/grafana-0.6.1.tgz")
        let indexed = try CLI.run(["index", "repo"], in: project.path)
        #expect(indexed.status == 0, "\(indexed.stderr)")
        let pulled = try project.pull()
        #expect(pulled.status == 0, "\(pulled.stderr)")
        return project
    }

    private static func chartList(_ chartValues: String) -> String {
        """
        repositories:
          - name: local
            url: repo
        charts:
          - name: grafana
            repository: local
            version: 0.6.1
        \(chartValues)
        """
    }

    private let curl = "docker.io/appropriate/curl:latest"

    @Test func valuesSwitchAnImageOnAndTheGateFollowsTheFile() throws {
        let project = try grafanaProject()
        let plain = try CLI.run(["images"], in: project.path)
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(!plain.stdout.contains(curl), "\(plain.stdout)")

        // The site's values switch the datasource job on: its curl image is listed.
        try project.directory.write("values/grafana.yaml", Array("server:\n  setDatasource:\n    enabled: true\n".utf8))
        try project.setChartList(Self.chartList("    values: [values/grafana.yaml]\n"))
        // images.lock no longer matches: --check and the gate say so (versions.lock is untouched:
        // values files do not change what is vendored).
        let check = try CLI.run(["images", "--check"], in: project.path)
        #expect(check.status == 1, "\(check.stdout)\(check.stderr)")
        #expect(check.stderr.contains("\(curl) is used by chart(s) grafana but images.lock does not list it"), "\(check.stderr)")
        let gate = try CLI.run(["verify"], in: project.path)
        #expect(gate.status == 1, "\(gate.stdout)\(gate.stderr)")
        #expect(gate.stdout.contains(curl), "\(gate.stdout)")

        let run = try CLI.run(["images"], in: project.path)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("\(curl)  grafana"), "\(run.stdout)")
        #expect(try project.read("images.lock").contains(curl))
        #expect(try CLI.run(["images", "--check"], in: project.path).status == 0)
        #expect(try CLI.run(["verify"], in: project.path).status == 0)

        // A second file given later switches it off again (-f order: the later file wins).
        try project.directory.write("values/site.yaml", Array("server:\n  setDatasource:\n    enabled: false\n".utf8))
        try project.setChartList(Self.chartList("    values:\n      - values/grafana.yaml\n      - values/site.yaml\n"))
        let stale = try CLI.run(["images", "--check"], in: project.path)
        #expect(stale.status == 1)
        #expect(stale.stderr.contains("images.lock lists \(curl)"), "\(stale.stderr)")
    }

    @Test func aMissingValuesFileIsAnInputErrorNamingIt() throws {
        let project = try grafanaProject()
        #expect(try CLI.run(["images"], in: project.path).status == 0)
        try project.setChartList(Self.chartList("    values:\n      - values/missing.yaml\n"))
        let before = try project.snapshot()
        let run = try CLI.run(["images"], in: project.path)
        #expect(run.status == 2, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("line 9: chart \"grafana\": values file values/missing.yaml cannot be read"), "\(run.stderr)")
        #expect(try project.snapshot() == before)
        // The gate reports it too, as the images check it cannot make.
        let gate = try CLI.run(["verify"], in: project.path)
        #expect(gate.status != 0)
        #expect(gate.stdout.contains("values/missing.yaml"), "\(gate.stdout)")
    }

    @Test func valuesPathsOutsideTheProjectAreRefused() throws {
        let project = try PullProject(chartList: Self.chartList("    values: [../elsewhere.yaml]\n"))
        let run = try project.pull()
        #expect(run.status == 2, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("line 8: chart \"grafana\": values: \"../elsewhere.yaml\" must be a file path relative to the chart list"), "\(run.stderr)")
    }
}
