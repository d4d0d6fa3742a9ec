import ChartSyncTestSupport
import Foundation
import Testing

/// Issue 12's faults at the level of `chartsync pull` from an `oci://` repository: each starts
/// from a project with a good pull (hello-web 1.0.0 in charts/external and versions.lock), makes
/// the next pull hit the fault, and checks the exit code, a message naming the chart and what
/// was wrong, the project byte for byte as it was, and no staging or partial file left behind.
/// The registry is a `FaultRegistry` (scripted responses) unless a real one is needed (auth).
@Suite struct PullOCIFaultTests {
    private static func chartList(_ registry: String, version: String, path: String = "charts") -> String {
        """
        repositories:
          - name: r
            url: oci://\(registry)/\(path)
            plainHTTP: true
        charts:
          - name: hello-web
            repository: r
            version: "\(version)"

        """
    }

    /// A project with hello-web 1.0.0 pulled from `registry` (which then serves it).
    private static func goodProject(_ registry: FaultRegistry) throws -> PullProject {
        try registry.publish(OCIChart(example: "hello-web", version: "1.0.0"))
        let project = try PullProject(chartList: chartList(registry.name, version: "1.0.0"))
        let first = try project.pull()
        #expect(first.status == 0, "\(first.stderr)")
        #expect(project.exists("charts/external/hello-web-1.0.0.tgz"))
        return project
    }

    /// Asks for `version` next and runs a pull expected to fail with `status`; checks that nothing
    /// changed and nothing was left, and returns stderr.
    private static func failingPull(_ project: PullProject, registry: String, version: String, _ arguments: [String] = [],
                                    status: Int32, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try project.setChartList(chartList(registry, version: version))
        let before = try project.snapshot()
        let run = try project.pull(arguments)
        #expect(run.status == status, "\(run.stderr)", sourceLocation: sourceLocation)
        #expect(run.stdout.isEmpty, "\(run.stdout)", sourceLocation: sourceLocation)
        #expect(try project.snapshot() == before, sourceLocation: sourceLocation)
        #expect(try project.leftovers().isEmpty, sourceLocation: sourceLocation)
        return run.stderr
    }

    // MARK: (a) a layer whose bytes do not match the manifest

    @Test(arguments: ["other bytes", "more bytes", "fewer bytes"])
    func aLayerThatDoesNotMatchItsManifestIsRefused(_ fault: String) throws {
        let registry = try FaultRegistry()
        defer { registry.stop() }
        let project = try Self.goodProject(registry)
        let chart = try OCIChart(example: "hello-web", version: "1.1.0")
        try registry.publish(chart)
        var served = chart.layer
        switch fault {
        case "other bytes": served[served.count / 2] ^= 0xff
        case "more bytes": served += [0]
        default: served.removeLast()
        }
        try registry.server.plan(registry.blobPath(chart.layerDigest), .ok(served))

        let stderr = try Self.failingPull(project, registry: registry.name, version: "1.1.0", status: 1)
        #expect(stderr.contains("chart \"hello-web\": blob \(registry.name)/charts/hello-web@\(chart.layerDigest) does not "), "\(stderr)")
        if fault == "other bytes" {
            #expect(stderr.contains("does not match its digest: expected \(chart.layerDigest), the bytes from \(registry.server.url(registry.blobPath(chart.layerDigest))) hash to \(ociDigest(served))"), "\(stderr)")
        } else {
            #expect(stderr.contains("does not have its descriptor's size: expected \(chart.layer.count) bytes"), "\(stderr)")
        }
    }

    // MARK: (b) a manifest that does not match its digest

    /// `--frozen` asks for the manifest by the digest versions.lock records; other bytes are refused.
    @Test func aFrozenPullRefusesAManifestThatIsNotTheLockedDigest() throws {
        let registry = try FaultRegistry()
        defer { registry.stop() }
        let project = try Self.goodProject(registry)
        let locked = try OCIChart(example: "hello-web", version: "1.0.0")
        #expect(try project.read("versions.lock").contains("    manifest: \"\(locked.manifestDigest)\"\n"))
        // A checkout with the lock but without the vendored tarball: --frozen must fetch it.
        try FileManager.default.removeItem(atPath: project.path + "/charts/external/hello-web-1.0.0.tgz")
        let other = try OCIChart(example: "hello-web", version: "1.1.0")
        try registry.server.plan(registry.manifestPath(locked.manifestDigest),
                                 .ok(other.manifest, headers: FaultRegistry.manifestHeaders(other.manifest)))
        let tagLists = try registry.requests(registry.tagsPath).count

        let stderr = try Self.failingPull(project, registry: registry.name, version: "1.0.0", ["--frozen"], status: 1)
        #expect(stderr.contains("chart \"hello-web\": manifest of \(registry.name)/charts/hello-web@\(locked.manifestDigest) does not match its digest: expected \(locked.manifestDigest), the bytes from \(registry.server.url(registry.manifestPath(locked.manifestDigest))) hash to \(other.manifestDigest)"), "\(stderr)")
        #expect(try registry.requests(registry.tagsPath).count == tagLists)
        #expect(try registry.requests(registry.blobPath(other.layerDigest)).isEmpty)
    }

    /// By tag, the manifest's bytes must hash to the registry's Docker-Content-Digest.
    @Test func aManifestThatIsNotTheDigestTheRegistryNamesIsRefused() throws {
        let registry = try FaultRegistry()
        defer { registry.stop() }
        let project = try Self.goodProject(registry)
        let chart = try OCIChart(example: "hello-web", version: "1.1.0")
        try registry.publish(chart)
        let claimed = ociDigest(Array("something else".utf8))
        try registry.server.plan(registry.manifestPath(chart.tag),
                                 .ok(chart.manifest, headers: FaultRegistry.manifestHeaders(chart.manifest, digest: claimed)))

        let stderr = try Self.failingPull(project, registry: registry.name, version: "1.1.0", status: 1)
        #expect(stderr.contains("chart \"hello-web\": manifest of \(registry.name)/charts/hello-web:1.1.0 does not match its digest: expected \(claimed), the bytes from \(registry.server.url(registry.manifestPath("1.1.0"))) hash to \(chart.manifestDigest)"), "\(stderr)")
        #expect(try registry.requests(registry.blobPath(chart.layerDigest)).isEmpty)
    }

    // MARK: (c) a container image where a chart is expected

    @Test func aContainerImageUnderANewerTagIsRefused() throws {
        let registry = try FaultRegistry()
        defer { registry.stop() }
        let project = try Self.goodProject(registry)
        let image = try OCIChart(example: "hello-web", version: "1.1.0", configType: "application/vnd.oci.image.config.v1+json")
        try registry.publish(image)

        let stderr = try Self.failingPull(project, registry: registry.name, version: "~1.1", status: 2)
        #expect(stderr.contains("chart \"hello-web\": oci://\(registry.name)/charts/hello-web:1.1.0 is not a Helm chart (config media type application/vnd.oci.image.config.v1+json, not application/vnd.cncf.helm.config.v1+json)"), "\(stderr)")
        #expect(try registry.requests(registry.blobPath(image.layerDigest)).isEmpty)
    }

    // MARK: (d) a missing tag, a missing repository

    /// The tag list names 1.1.0 but its manifest is gone (deleted between the two requests).
    @Test func aTagWithoutAManifestIsAnInputError() throws {
        let registry = try FaultRegistry()
        defer { registry.stop() }
        let project = try Self.goodProject(registry)
        let chart = try OCIChart(example: "hello-web", version: "1.1.0")
        try registry.publish(chart)
        try registry.server.plan(registry.manifestPath(chart.tag),
                                 .status(404, body: FaultRegistry.errorBody("MANIFEST_UNKNOWN", "manifest unknown"),
                                         headers: ["Content-Type": "application/json"]))

        let stderr = try Self.failingPull(project, registry: registry.name, version: "1.1.0", status: 2)
        #expect(stderr.contains("chart \"hello-web\": \(registry.name)/charts/hello-web:1.1.0 not found: the registry has no manifest for it"), "\(stderr)")
    }

    /// `--frozen` and the locked manifest is no longer in the registry.
    @Test func aFrozenPullOfAManifestTheRegistryNoLongerHasIsAnInputError() throws {
        let registry = try FaultRegistry()
        defer { registry.stop() }
        let project = try Self.goodProject(registry)
        let locked = try OCIChart(example: "hello-web", version: "1.0.0")
        try FileManager.default.removeItem(atPath: project.path + "/charts/external/hello-web-1.0.0.tgz")
        try registry.server.plan(registry.manifestPath(locked.manifestDigest),
                                 .status(404, body: FaultRegistry.errorBody("MANIFEST_UNKNOWN", "manifest unknown")))

        let stderr = try Self.failingPull(project, registry: registry.name, version: "1.0.0", ["--frozen"], status: 2)
        #expect(stderr.contains("chart \"hello-web\": \(registry.name)/charts/hello-web@\(locked.manifestDigest) not found"), "\(stderr)")
    }

    /// The chart list now points at a path of the registry that has no such repository.
    @Test func aMissingRepositoryIsChartNotFound() throws {
        let registry = try FaultRegistry()
        defer { registry.stop() }
        let project = try Self.goodProject(registry)
        try registry.server.plan("/v2/elsewhere/hello-web/tags/list",
                                 .status(404, body: FaultRegistry.errorBody("NAME_UNKNOWN", "repository name not known to registry")))
        try project.setChartList(Self.chartList(registry.name, version: "1.0.0", path: "elsewhere"))
        let before = try project.snapshot()
        let run = try project.pull()
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("chart \"hello-web\" not found in oci://\(registry.name)/elsewhere"), "\(run.stderr)")
        #expect(try project.snapshot() == before)
        #expect(try project.leftovers().isEmpty)
    }

    // MARK: (e) refused credentials

    /// A real registry with htpasswd (basic) or token auth: the right password pulls, a wrong one
    /// is refused naming the registry (and the user), and no password is ever printed.
    @Test(arguments: ["basic", "token"])
    func aRefusedPasswordNamesTheRegistryAndNothingChanges(_ scheme: String) throws {
        let alice = StaticServer.BasicAuth(username: "alice", password: "Al1ce-chart-pw")
        let registry = try RegistryServer(options: .init(authentication: scheme == "basic"
            ? .basic([alice]) : .token(users: [alice], anonymousPull: false)))
        defer { registry.stop() }
        for version in ["1.0.0", "1.1.0"] {
            try registry.pushChart("charts/hello-web", tags: [version], chart: Fixtures.packageRoot + "/examples/repo/hello-web-\(version).tgz")
        }
        let credentials = "    usernameEnv: REG_USER\n    passwordEnv: REG_PASSWORD\n"
        let project = try PullProject(chartList: Self.chartList(registry.name, version: "1.0.0").replacingOccurrences(
            of: "    plainHTTP: true\n", with: "    plainHTTP: true\n" + credentials))
        let home = try TemporaryDirectory()
        let good = try project.pull(environment: ["HOME": home.path, "REG_USER": alice.username, "REG_PASSWORD": alice.password])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(project.exists("charts/external/hello-web-1.0.0.tgz"))

        try project.setChartList(Self.chartList(registry.name, version: "1.1.0").replacingOccurrences(
            of: "    plainHTTP: true\n", with: "    plainHTTP: true\n" + credentials))
        let before = try project.snapshot()
        let wrong = "Wr0ng-pw-for-alice"
        let run = try project.pull(environment: ["HOME": home.path, "REG_USER": alice.username, "REG_PASSWORD": wrong])
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("chart \"hello-web\": authentication with registry \(registry.name) failed: "), "\(run.stderr)")
        #expect(run.stderr.contains("\"alice\""), "\(run.stderr)")
        for secret in [wrong, alice.password] {
            #expect(!run.stderr.contains(secret) && !run.stdout.contains(secret))
        }
        #expect(try project.snapshot() == before)
        #expect(try project.leftovers().isEmpty)
    }

    // MARK: (f) a blob redirected to another host

    /// The registry requires credentials (basic, or a bearer token from its token service) and
    /// sends the layer to object storage on another host with a 307: the redirect is followed and
    /// the storage never sees an Authorization header.
    @Test(arguments: ["basic", "bearer"])
    func aBlobRedirectToObjectStorageCarriesNoCredentials(_ scheme: String) throws {
        let registry = try FaultRegistry()
        defer { registry.stop() }
        let storage = try FaultServer()
        defer { storage.stop() }
        let password = "S3cret-registry-pw"
        let expected: String
        if scheme == "basic" {
            expected = "Basic " + Data("alice:\(password)".utf8).base64EncodedString()
            try registry.server.requireAuthorization(prefix: "/v2/", authorization: expected,
                                                     challenge: #"Basic realm="fault-registry""#)
        } else {
            let token = "t0ken-for-alice"
            expected = "Bearer " + token
            try registry.server.plan("/token", .ok(Array(#"{"token":"\#(token)"}"#.utf8), headers: ["Content-Type": "application/json"]))
            try registry.server.requireAuthorization(
                prefix: "/v2/", authorization: expected,
                challenge: #"Bearer realm="\#(registry.server.url("/token"))",service="fault-registry""#)
        }
        var charts: [OCIChart] = []
        for version in ["1.0.0", "1.1.0"] {
            let chart = try OCIChart(example: "hello-web", version: version)
            try registry.publish(chart)
            try storage.plan("/objects/" + chart.layerDigest, .ok(chart.layer))
            try registry.server.plan(registry.blobPath(chart.layerDigest),
                                     .redirect(to: storage.url("/objects/" + chart.layerDigest), status: 307))
            charts.append(chart)
        }
        let credentials = "    usernameEnv: REG_USER\n    passwordEnv: REG_PASSWORD\n"
        let environment = ["REG_USER": "alice", "REG_PASSWORD": password]
        let project = try PullProject(chartList: Self.chartList(registry.name, version: "1.0.0").replacingOccurrences(
            of: "    plainHTTP: true\n", with: "    plainHTTP: true\n" + credentials))
        let first = try project.pull(environment: environment)
        #expect(first.status == 0, "\(first.stderr)")
        try project.setChartList(Self.chartList(registry.name, version: "1.1.0").replacingOccurrences(
            of: "    plainHTTP: true\n", with: "    plainHTTP: true\n" + credentials))
        let second = try project.pull(environment: environment)
        #expect(second.status == 0, "\(second.stderr)")
        for run in [first, second] {
            #expect(!run.stderr.contains(password) && !run.stdout.contains(password))
        }
        #expect(try sha256Hex(of: project.path + "/charts/external/hello-web-1.1.0.tgz")
            == sha256Hex(of: Fixtures.packageRoot + "/examples/repo/hello-web-1.1.0.tgz"))

        // Each layer came from the storage, which saw no credentials; the registry saw them on
        // the requests it answered.
        let fetched = try storage.requests()
        #expect(fetched.map(\.path) == charts.map { "/objects/" + $0.layerDigest })
        #expect(fetched.allSatisfy { $0.authorization == nil }, "\(fetched)")
        let answered = try registry.server.requests().filter { $0.path.hasPrefix("/v2/") && $0.authorization == expected }
        for chart in charts {
            #expect(answered.contains { $0.path == registry.blobPath(chart.layerDigest) })
            #expect(answered.contains { $0.path == registry.manifestPath(chart.tag) })
        }
        if scheme == "bearer" {
            // The token service is asked with the configured basic credentials.
            let tokenRequests = try registry.requests("/token")
            #expect(!tokenRequests.isEmpty)
            #expect(tokenRequests.allSatisfy { $0.authorization == "Basic " + Data("alice:\(password)".utf8).base64EncodedString() })
        }
    }

    // MARK: (h) 503 then 200

    /// A 503 on the tag list, the manifest and the blob is retried (and said so on stderr); the
    /// pull then succeeds.
    @Test func serviceUnavailableOnTagsManifestAndBlobIsRetried() throws {
        let registry = try FaultRegistry()
        defer { registry.stop() }
        let project = try Self.goodProject(registry)
        let chart = try OCIChart(example: "hello-web", version: "1.1.0")
        try registry.publish(chart)
        let unavailable = FaultResponse.status(503, body: FaultRegistry.errorBody("UNAVAILABLE", "try again"),
                                               headers: ["Content-Type": "application/json"])
        try registry.planTags(before: [unavailable])
        try registry.server.plan(registry.manifestPath(chart.tag),
                                 [unavailable, .ok(chart.manifest, headers: FaultRegistry.manifestHeaders(chart.manifest))])
        try registry.server.plan(registry.blobPath(chart.layerDigest), [unavailable, .ok(chart.layer)])
        let tagLists = try registry.requests(registry.tagsPath).count

        try project.setChartList(Self.chartList(registry.name, version: "~1.1"))
        let run = try project.pull()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try sha256Hex(of: project.path + "/charts/external/hello-web-1.1.0.tgz")
            == sha256Hex(of: Fixtures.packageRoot + "/examples/repo/hello-web-1.1.0.tgz"))
        #expect(!project.exists("charts/external/hello-web-1.0.0.tgz"))
        #expect(try registry.requests(registry.tagsPath).count == tagLists + 2)
        #expect(try registry.requests(registry.manifestPath(chart.tag)).count == 2)
        #expect(try registry.requests(registry.blobPath(chart.layerDigest)).count == 2)
        for path in [registry.tagsPath, registry.manifestPath(chart.tag), registry.blobPath(chart.layerDigest)] {
            #expect(run.stderr.contains("retrying \(registry.server.url(path)) (attempt 2)"), "\(run.stderr)")
        }
        #expect(run.stderr.contains("503"), "\(run.stderr)")
        #expect(try project.leftovers().isEmpty)
    }

    /// A registry that stays unavailable fails the pull as a network failure after the retries.
    @Test func aRegistryThatStaysUnavailableIsANetworkFailure() throws {
        let registry = try FaultRegistry()
        defer { registry.stop() }
        let project = try Self.goodProject(registry)
        try registry.publish(OCIChart(example: "hello-web", version: "1.1.0"))
        let tagLists = try registry.requests(registry.tagsPath).count
        try registry.server.plan(registry.tagsPath, .status(503, body: FaultRegistry.errorBody("UNAVAILABLE", "down")))

        // A range, so that the tags are listed (an exact version is asked for by its tag).
        let stderr = try Self.failingPull(project, registry: registry.name, version: "~1.1", status: 3)
        #expect(try registry.requests(registry.tagsPath).count == tagLists + 3)   // --retries 2
        #expect(stderr.contains("chart \"hello-web\": "), "\(stderr)")
        #expect(stderr.contains(registry.server.url(registry.tagsPath)), "\(stderr)")
        #expect(stderr.contains("503"), "\(stderr)")
    }
}
