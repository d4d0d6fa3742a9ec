import ChartSyncTestSupport
import Foundation
import Testing

/// `chartsync images` with the values of the project's helmfile releases, on the built binary:
/// the real grafana 0.6.1 chart lists its curl image once a release's values file switches the
/// datasource job on; `--check` and the gate follow the file; the bundle carries the helmfile and
/// its files, so the gate at the site computes the same images.lock.
@Suite struct HelmfileImagesTests {
    /// A project vendoring grafana 0.6.1 from a folder repository.
    private func grafanaProject() throws -> PullProject {
        let project = try PullProject(chartList: """
            repositories:
              - name: local
                url: repo
            charts:
              - name: grafana
                repository: local
                version: 0.6.1

            """)
        try FileManager.default.createDirectory(atPath: project.path + "/repo", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.path("repo-grafana-helm-charts/packages/grafana-0.6.1.tgz"),
                                         toPath: project.path + "/repo/grafana-0.6.1.tgz")
        let indexed = try CLI.run(["index", "repo"], in: project.path)
        #expect(indexed.status == 0, "\(indexed.stderr)")
        let pulled = try project.pull()
        #expect(pulled.status == 0, "\(pulled.stderr)")
        return project
    }

    private let curl = "docker.io/appropriate/curl:latest"

    static let helmfile = """
        environments:
          default:
            values: [environments/default.yaml]
        releases:
          - name: monitoring
            namespace: monitoring
            chart: ./charts/external/grafana-0.6.1.tgz
            values:
              - values/monitoring.yaml
              - values/site.yaml.gotmpl

        """

    @Test func releaseValuesSwitchAnImageOnAndTheSiteComputesTheSame() throws {
        let project = try grafanaProject()
        #expect(try CLI.run(["images"], in: project.path).status == 0)
        #expect(try !project.read("images.lock").contains(curl))

        try project.directory.write("helmfile.yaml", Array(Self.helmfile.utf8))
        try project.directory.write("environments/default.yaml", Array("site: a\n".utf8))
        try project.directory.write("values/monitoring.yaml", Array("server:\n  setDatasource:\n    enabled: true\n".utf8))
        try project.directory.write("values/site.yaml.gotmpl", Array("server:\n  image: {{ .Environment.Values.image }}\n".utf8))

        // images.lock no longer matches: --check and the gate say so.
        let check = try CLI.run(["images", "--check"], in: project.path)
        #expect(check.status == 1, "\(check.stdout)\(check.stderr)")
        #expect(check.stderr.contains("\(curl) is used by chart(s) grafana but images.lock does not list it"), "\(check.stderr)")
        let gate = try CLI.run(["verify"], in: project.path)
        #expect(gate.status == 1, "\(gate.stdout)\(gate.stderr)")
        #expect(gate.stdout.contains(curl), "\(gate.stdout)")

        let run = try CLI.run(["images"], in: project.path)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("\(curl)  grafana"), "\(run.stdout)")
        #expect(run.stdout.contains("with the values of 1 helmfile release(s)"), "\(run.stdout)")
        // The templated values file is named, not guessed.
        #expect(run.stderr.contains("warning: grafana 0.6.1: helmfile.yaml:10: release monitoring: values file values/site.yaml.gotmpl is a template helmfile renders with its environment; not applied"), "\(run.stderr)")
        let json = try CLI.run(["images", "--json", "--quiet"], in: project.path)
        let document = try #require(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let releases = try #require(document["releases"] as? [[String: Any]])
        #expect(releases.map { "\($0["release"] ?? "") \($0["file"] ?? ""):\($0["line"] ?? 0) \($0["chart"] ?? "")" }
                == ["monitoring helmfile.yaml:5 grafana"])
        #expect(try CLI.run(["images", "--check"], in: project.path).status == 0)
        #expect(try CLI.run(["verify"], in: project.path).status == 0)

        // The bundle carries the helmfile and its files (no bundle.include needed): the gate at
        // the site reads the same release values and finds images.lock current.
        let out = try TemporaryDirectory()
        let made = try CLI.run(["bundle", "-o", out.file("site.bundle"), "--name", "site-a"], in: project.path)
        #expect(made.status == 0, "\(made.stderr)")
        let site = out.file("site")
        let extracted = try CLI.run(["verify", out.file("site.bundle"), "--extract", site], in: out.path)
        #expect(extracted.status == 0, "\(extracted.stderr)")
        for path in ["helmfile.yaml", "values/monitoring.yaml", "values/site.yaml.gotmpl", "environments/default.yaml", "images.lock"] {
            #expect(try sha256Hex(of: site + "/" + path) == sha256Hex(of: project.path + "/" + path), "\(path)")
        }
        let siteGate = try CLI.run(["verify", "--json"], in: site)
        #expect(siteGate.status == 0, "\(siteGate.stdout)\(siteGate.stderr)")
        #expect(try CLI.run(["images", "--check"], in: site).status == 0)

        // The release's file switches the job off again: images.lock lists an image no render uses.
        try project.directory.write("values/monitoring.yaml", Array("server:\n  setDatasource:\n    enabled: false\n".utf8))
        let stale = try CLI.run(["images", "--check"], in: project.path)
        #expect(stale.status == 1)
        #expect(stale.stderr.contains("images.lock lists \(curl)"), "\(stale.stderr)")
    }

    @Test func withoutImagesTheHelmfileDoesNotTravelUnasked() throws {
        let project = try grafanaProject()
        try project.directory.write("helmfile.yaml", Array(Self.helmfile.utf8))
        try project.directory.write("environments/default.yaml", Array("site: a\n".utf8))
        try project.directory.write("values/monitoring.yaml", Array("server:\n  setDatasource:\n    enabled: true\n".utf8))
        try project.directory.write("values/site.yaml.gotmpl", Array("server: {}\n".utf8))
        let out = try TemporaryDirectory()
        // No images.lock and no images: section: the scan does not run, so nothing of it is needed at the site.
        let made = try CLI.run(["bundle", "-o", out.file("b.bundle"), "--name", "site-a"], in: project.path)
        #expect(made.status == 0, "\(made.stderr)")
        let extracted = try CLI.run(["verify", out.file("b.bundle"), "--extract", out.file("site")], in: out.path)
        #expect(extracted.status == 0, "\(extracted.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.file("site/helmfile.yaml")))
    }
}
