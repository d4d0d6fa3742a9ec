import ChartSyncTestSupport
import Foundation
import Testing

/// `chartsync pull` from an `oci://` repository: Debian's docker-registry on 127.0.0.1 (plain
/// HTTP), the example charts pushed as `helm push` does.
@Suite struct PullOCITests {
    private static let repo = Fixtures.packageRoot + "/examples/repo/"

    /// A registry with hello-web 1.0.0, 1.1.0 and 1.2.0-rc.1 under charts/hello-web (the other
    /// OCI suites start from it too).
    static func registryWithCharts(_ options: RegistryServer.Options = .init()) throws -> RegistryServer {
        let registry = try RegistryServer(options: options)
        for version in ["1.0.0", "1.1.0", "1.2.0-rc.1"] {
            try registry.pushChart("charts/hello-web", tags: [version], chart: repo + "hello-web-\(version).tgz")
        }
        return registry
    }

    private static func chartList(_ registry: RegistryServer, version: String = "~1.1", extra: String = "") -> String {
        """
        repositories:
          - name: r
            url: oci://\(registry.name)/charts
            plainHTTP: true
        \(extra)charts:
          - name: hello-web
            repository: r
            version: "\(version)"

        """
    }

    private static func sha256(_ path: String) throws -> String {
        String(try runCommand(["sha256sum", path]).prefix(64))
    }

    private static func requests(_ registry: RegistryServer, _ fragment: String) -> Int {
        registry.log().components(separatedBy: "\n").filter { $0.contains(fragment) }.count
    }

    @Test func vendorsTheResolvedTagProvesItAndPullsAgainWithoutDownloading() throws {
        let registry = try Self.registryWithCharts()
        defer { registry.stop() }
        let project = try PullProject(chartList: Self.chartList(registry))

        let first = try project.pull()
        #expect(first.status == 0, "\(first.stderr)")
        let vendored = project.path + "/charts/external/hello-web-1.1.0.tgz"
        #expect(try Self.sha256(vendored) == Self.sha256(Self.repo + "hello-web-1.1.0.tgz"))
        #expect(!project.exists("charts/external/hello-web-1.2.0-rc.1.tgz"))
        let lock = try project.read("versions.lock")
        #expect(lock.contains("    url: \"oci://\(registry.name)/charts/hello-web:1.1.0\"\n"))
        #expect(lock.contains("    repository: \"oci://\(registry.name)/charts\"\n"))
        #expect(lock.contains("    sha256: \"\(try Self.sha256(Self.repo + "hello-web-1.1.0.tgz"))\"\n"))
        #expect(lock.range(of: "    manifest: \"sha256:[0-9a-f]{64}\"\n", options: .regularExpression) != nil)

        // The gate passes on what was vendored.
        let verify = try CLI.run(["verify"], in: project.path)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")

        // A second pull fetches no blob and leaves the lock as it was.
        let blobsBefore = Self.requests(registry, "/blobs/")
        #expect(blobsBefore > 0)
        let second = try project.pull()
        #expect(second.status == 0, "\(second.stderr)")
        #expect(Self.requests(registry, "/blobs/") == blobsBefore)
        #expect(try project.read("versions.lock") == lock)

        // --frozen into an empty charts/external: no tag list, the manifest by digest, the layer proven.
        try FileManager.default.removeItem(atPath: project.path + "/charts/external")
        let tagsBefore = Self.requests(registry, "/tags/list")
        #expect(tagsBefore > 0)
        let frozen = try project.pull(["--frozen"])
        #expect(frozen.status == 0, "\(frozen.stderr)")
        #expect(Self.requests(registry, "/tags/list") == tagsBefore)
        #expect(Self.requests(registry, "/blobs/") > blobsBefore)
        #expect(try Self.sha256(vendored) == Self.sha256(Self.repo + "hello-web-1.1.0.tgz"))
        #expect(try project.read("versions.lock") == lock)
        #expect(try project.leftovers().isEmpty)
    }

    @Test func aMissingVersionIsAnInputError() throws {
        let registry = try Self.registryWithCharts()
        defer { registry.stop() }
        let project = try PullProject(chartList: Self.chartList(registry, version: "~3.0"))
        let run = try project.pull()
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("no version of chart \"hello-web\""), "\(run.stderr)")
        #expect(run.stderr.contains("satisfies \"~3.0\""), "\(run.stderr)")
        #expect(!project.exists("versions.lock"))
        #expect(!project.exists("charts/external"))
    }

    @Test func anExactVersionIsFetchedByItsTagWithoutListingTags() throws {
        let registry = try Self.registryWithCharts()
        defer { registry.stop() }
        let project = try PullProject(chartList: Self.chartList(registry, version: "1.0.0"))
        let tagsBefore = Self.requests(registry, "/tags/list")
        let run = try project.pull()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Self.requests(registry, "/tags/list") == tagsBefore)
        #expect(try Self.sha256(project.path + "/charts/external/hello-web-1.0.0.tgz") == Self.sha256(Self.repo + "hello-web-1.0.0.tgz"))
        #expect(try project.read("versions.lock").contains("    url: \"oci://\(registry.name)/charts/hello-web:1.0.0\"\n"))

        // A version the registry has no tag for goes through the tag list and is refused as before.
        let other = try PullProject(chartList: Self.chartList(registry, version: "1.0.1"))
        let refused = try other.pull()
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(refused.stderr.contains("no version of chart \"hello-web\""), "\(refused.stderr)")
        #expect(refused.stderr.contains("satisfies \"1.0.1\""), "\(refused.stderr)")
        #expect(Self.requests(registry, "/tags/list") > tagsBefore)
        #expect(!other.exists("charts/external"))
    }

    @Test func aContainerImageWhereAChartIsExpectedIsRefused() throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        try registry.push("charts/hello-web", tag: "1.1.0", format: .oci)
        let project = try PullProject(chartList: Self.chartList(registry))
        let run = try project.pull()
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("oci://\(registry.name)/charts/hello-web:1.1.0 is not a Helm chart (config media type "),
                "\(run.stderr)")
        #expect(!project.exists("versions.lock"))
        #expect(!project.exists("charts/external"))
    }

    @Test func aRegistryWithTokenAuthenticationTakesTheRepositoryOrTheLoginCredentials() throws {
        let alice = StaticServer.BasicAuth(username: "alice", password: "Al1ce-chart-pw")
        let registry = try RegistryServer(options: .init(authentication: .token(users: [alice], anonymousPull: false)))
        defer { registry.stop() }
        try registry.pushChart("charts/hello-web", tags: ["1.1.0"], chart: Self.repo + "hello-web-1.1.0.tgz")
        let project = try PullProject(chartList: Self.chartList(registry))
        let home = try TemporaryDirectory()

        // Anonymous: refused by the token service, an input error, nothing vendored.
        let refused = try project.pull(environment: ["HOME": home.path])
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(refused.stderr.contains("chart \"hello-web\": "), "\(refused.stderr)")
        #expect(!project.exists("charts/external"))

        // What `docker login` stored for the host.
        let auth = Data("\(alice.username):\(alice.password)".utf8).base64EncodedString()
        try home.write("docker/config.json", Array("{\"auths\": {\"\(registry.name)\": {\"auth\": \"\(auth)\"}}}".utf8))
        let login = try project.pull(environment: ["HOME": home.path, "DOCKER_CONFIG": home.file("docker")])
        #expect(login.status == 0, "\(login.stderr)")
        #expect(try Self.sha256(project.path + "/charts/external/hello-web-1.1.0.tgz") == Self.sha256(Self.repo + "hello-web-1.1.0.tgz"))
        #expect(!login.stderr.contains(alice.password))

        // The repository's own settings, with no login stored.
        try FileManager.default.removeItem(atPath: project.path + "/charts/external")
        try project.setChartList(Self.chartList(registry).replacingOccurrences(
            of: "    plainHTTP: true\n", with: "    plainHTTP: true\n    usernameEnv: REG_USER\n    passwordEnv: REG_PASSWORD\n"))
        let own = try project.pull(environment: ["HOME": home.path, "REG_USER": alice.username, "REG_PASSWORD": alice.password])
        #expect(own.status == 0, "\(own.stderr)")
        #expect(project.exists("charts/external/hello-web-1.1.0.tgz"))
    }

    @Test func aRepublishedTagIsRefusedAndNothingChanges() throws {
        let registry = try Self.registryWithCharts()
        defer { registry.stop() }
        let project = try PullProject(chartList: Self.chartList(registry))
        let first = try project.pull()
        #expect(first.status == 0, "\(first.stderr)")
        let before = try project.snapshot()

        // Other bytes under the locked version's tag.
        try registry.pushChart("charts/hello-web", tags: ["1.1.0"], chart: Self.repo + "hello-web-1.0.0.tgz")
        let run = try project.pull()
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("the registry now has another manifest for chart \"hello-web\" 1.1.0"), "\(run.stderr)")
        #expect(try project.snapshot() == before)
    }

    @Test func aChartWrappedInAnImageIndexIsTakenFromItsManifest() throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        let pushed = try registry.pushChart("charts/hello-web", tags: ["1.1.0"], chart: Self.repo + "hello-web-1.1.0.tgz",
                                            wrappedInIndex: true)
        let project = try PullProject(chartList: Self.chartList(registry))
        let run = try project.pull()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try Self.sha256(project.path + "/charts/external/hello-web-1.1.0.tgz") == Self.sha256(Self.repo + "hello-web-1.1.0.tgz"))
        // The lock records what the tag names: the index.
        #expect(try project.read("versions.lock").contains("    manifest: \"\(pushed.digest)\"\n"))

        try FileManager.default.removeItem(atPath: project.path + "/charts/external")
        let frozen = try project.pull(["--frozen"])
        #expect(frozen.status == 0, "\(frozen.stderr)")
        #expect(project.exists("charts/external/hello-web-1.1.0.tgz"))
    }

    @Test func anHTTPSRegistryWithTheRepositorysCAFileOrInsecureSkipTLSVerify() throws {
        let registry = try RegistryServer(options: .init(tls: true))
        defer { registry.stop() }
        try registry.pushChart("charts/hello-web", tags: ["1.1.0"], chart: Self.repo + "hello-web-1.1.0.tgz")
        let caFile = try #require(registry.caFile)
        let project = try PullProject(chartList: Self.chartList(registry).replacingOccurrences(
            of: "    plainHTTP: true\n", with: "    caFile: \(caFile)\n"))
        let run = try project.pull()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(project.exists("charts/external/hello-web-1.1.0.tgz"))
        #expect(!run.stderr.contains("warning"), "\(run.stderr)")

        // Without the CA the certificate is refused (I/O); skipping verification is warned about.
        try project.setChartList(Self.chartList(registry).replacingOccurrences(of: "    plainHTTP: true\n", with: ""))
        try FileManager.default.removeItem(atPath: project.path + "/charts/external")
        let untrusted = try project.pull()
        #expect(untrusted.status == 3, "\(untrusted.stderr)")
        try project.setChartList(Self.chartList(registry).replacingOccurrences(
            of: "    plainHTTP: true\n", with: "    insecureSkipTLSVerify: true\n"))
        let insecure = try project.pull()
        #expect(insecure.status == 0, "\(insecure.stderr)")
        #expect(insecure.stderr.contains("warning"), "\(insecure.stderr)")
        #expect(project.exists("charts/external/hello-web-1.1.0.tgz"))
    }
}
