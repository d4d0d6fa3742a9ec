import ChartSyncTestSupport
import Foundation
import Testing

/// A chart list mixing an HTTP index repository (the example repository on nginx) and an
/// `oci://` repository (docker-registry), through the whole flow: pull, bundle, verify the
/// bundle into a site, the gate in the project and in the site, and `pull --frozen`.
@Suite struct PullOCIMixedProjectTests {
    private static let repo = Fixtures.packageRoot + "/examples/repo"

    @Test func pullsBundlesVerifiesAndPullsFrozenWithoutListingTags() throws {
        let nginx = try StaticServer(root: Self.repo)
        defer { nginx.stop() }
        let registry = try PullOCITests.registryWithCharts()
        defer { registry.stop() }
        let project = try PullProject(chartList: """
            repositories:
              - name: example
                url: \(nginx.url(""))
              - name: registry
                url: oci://\(registry.name)/charts
                plainHTTP: true
            charts:
              - name: hello-web
                repository: registry
                version: "~1.1"
                unpack: true
              - name: hello-common
                repository: example
                version: "2.0.x"
              - name: hello-worker
                repository: example
                version: ">=0.4 <1.0"

            """)

        let pulled = try project.pull()
        #expect(pulled.status == 0, "\(pulled.stderr)")
        let vendored = ["hello-web-1.1.0.tgz", "hello-common-2.0.1.tgz", "hello-worker-0.5.0.tgz"]
        for file in vendored {
            #expect(try sha256Hex(of: project.path + "/charts/external/" + file) == sha256Hex(of: Self.repo + "/" + file), "\(file)")
        }
        #expect(project.exists("charts/external/hello-web-v1.1.0/Chart.yaml"))
        let lock = try project.read("versions.lock")
        #expect(lock.contains("    url: \"oci://\(registry.name)/charts/hello-web:1.1.0\"\n"), "\(lock)")
        #expect(lock.contains("    url: \"\(nginx.url("hello-common-2.0.1.tgz"))\"\n"), "\(lock)")

        // The gate in the project.
        let gate = try CLI.run(["verify"], in: project.path)
        #expect(gate.status == 0, "\(gate.stdout)\(gate.stderr)")

        // Bundle, then verify it into a site, where the gate passes too.
        let out = try TemporaryDirectory(prefix: "chartsync-mixed")
        let bundle = out.file("mixed.bundle")
        let made = try CLI.run(["bundle", "-o", bundle, "--name", "mixed", "--sequence", "1"], in: project.path)
        #expect(made.status == 0, "\(made.stderr)")
        let site = out.file("site")
        let extracted = try CLI.run(["verify", bundle, "--extract", site], in: out.path)
        #expect(extracted.status == 0, "\(extracted.stderr)")
        #expect(try String(contentsOfFile: site + "/versions.lock", encoding: .utf8) == lock)
        for file in vendored {
            #expect(try sha256Hex(of: site + "/charts/external/" + file) == sha256Hex(of: Self.repo + "/" + file), "\(file)")
        }
        let siteGate = try CLI.run(["verify"], in: site)
        #expect(siteGate.status == 0, "\(siteGate.stdout)\(siteGate.stderr)")

        // --frozen into an empty charts/external: no tag list, no index, the same bytes.
        let external = try treeSnapshot(project.path + "/charts/external")
        try FileManager.default.removeItem(atPath: project.path + "/charts/external")
        let tagLists = registry.log().components(separatedBy: "\n").filter { $0.contains("/tags/list") }.count
        #expect(tagLists > 0)
        let served = nginx.accessLog(atLeast: 3)
        #expect(served.filter { $0.contains("/index.yaml") }.count == 1, "\(served)")
        let frozen = try project.pull(["--frozen"])
        #expect(frozen.status == 0, "\(frozen.stderr)")
        #expect(registry.log().components(separatedBy: "\n").filter { $0.contains("/tags/list") }.count == tagLists)
        // The two tarballs again, and no index.
        let servedAgain = nginx.accessLog(atLeast: served.count + 2)
        #expect(servedAgain.count == served.count + 2, "\(servedAgain)")
        #expect(servedAgain.filter { $0.contains("/index.yaml") }.count == 1, "\(servedAgain)")
        #expect(try treeSnapshot(project.path + "/charts/external") == external)
        #expect(try project.read("versions.lock") == lock)
        #expect(try project.leftovers().isEmpty)
        #expect(try CLI.run(["verify"], in: project.path).status == 0)
    }
}
