import ChartSyncTestSupport
import Foundation
import Testing

/// `chartsync push` against failing registries: refused credentials, an unreachable registry, a
/// tag holding other content, 503s and resets in the middle of uploads (a FaultServer proxy in
/// front of a real docker-registry), an upload Location on another host, Ctrl-C, and Harbor's
/// "project not found".
@Suite struct PushFaultTests {
    static let user = StaticServer.BasicAuth(username: "robot$site", password: "push-secret-8c1f")

    @Test func refusedCredentialsAndAnUnreachableRegistry() throws {
        let project = try PushProject(customChart: false)
        let registry = try RegistryServer(options: .init(authentication: .basic([Self.user])))
        let wrong = try push(project.path, ["--registry", registry.name + "/site", "--plain-http"],
                             environment: ["CHARTSYNC_USERNAME": Self.user.username, "CHARTSYNC_PASSWORD": "wrong-secret-value"])
        #expect(wrong.status == 2, "\(wrong.stderr)")
        #expect(wrong.stderr.contains(registry.name), "\(wrong.stderr)")
        #expect(!(wrong.stdout + wrong.stderr).contains("wrong-secret-value"))
        #expect(!registryRequests(registry).contains { $0.hasPrefix("PUT ") || $0.hasPrefix("PATCH ") })

        registry.stop()
        let gone = try push(project.path, ["--registry", registry.name + "/site", "--plain-http"],
                            environment: ["CHARTSYNC_USERNAME": Self.user.username, "CHARTSYNC_PASSWORD": Self.user.password])
        #expect(gone.status == 3, "\(gone.stderr)")
        #expect(gone.stderr.contains(registry.name), "\(gone.stderr)")
        #expect(!(gone.stdout + gone.stderr).contains(Self.user.password))
    }

    @Test func aTagHoldingOtherContentIsRefusedThenOverwritten() throws {
        let project = try PushProject(customChart: false)
        let registry = try RegistryServer()
        defer { registry.stop() }
        let reference = project.source.reference("team/oci-app", tag: "1.0")
        let wanted = try #require(project.images[reference])
        let other = try registry.push("site/team/oci-app", tag: "1.0", format: .oci, seed: 9)
        let target = ["--registry", registry.name + "/site", "--plain-http"]

        let refused = try push(project.path, target)
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("\(registry.name)/site/team/oci-app:1.0"), "\(refused.stderr)")
        #expect(refused.stderr.contains(other.digest) && refused.stderr.contains(wanted), "\(refused.stderr)")
        #expect(try RegistryAccess(registry).manifestDigest("site/team/oci-app:1.0") == other.digest)

        let replaced = try push(project.path, target + ["--overwrite", "--json"])
        #expect(replaced.status == 0, "\(replaced.stderr)")
        let entry = (try jsonObject(replaced)["artifacts"] as? [[String: Any]] ?? [])
            .first { $0["pushed"] as? String == "\(registry.name)/site/team/oci-app:1.0" }
        #expect(entry?["status"] as? String == "overwritten", "\(replaced.stdout)")
        #expect(try RegistryAccess(registry).manifestDigest("site/team/oci-app:1.0") == wanted)
    }

    @Test func a503OnAnUploadIsRetried() throws {
        let project = try PushProject(customChart: false)
        let registry = try RegistryServer()
        defer { registry.stop() }
        let proxy = try FaultServer()
        defer { proxy.stop() }
        try proxy.proxy(to: registry.baseURL)
        let uploads = "/v2/site/hello-web/blobs/uploads/"
        try proxy.plan("POST", prefix: uploads, [.status(503, body: Array("busy".utf8)), .forward()])
        try proxy.plan("PUT", prefix: uploads, [.status(503, body: Array("busy".utf8)), .forward()])

        let run = try push(project.path, ["--registry", "127.0.0.1:\(proxy.port)/site", "--plain-http", "--jobs", "1"])
        #expect(run.status == 0, "\(run.stderr)")
        let seen = try proxy.requests().filter { $0.path.hasPrefix(uploads) }.map(\.method)
        #expect(seen.filter { $0 == "POST" }.count == 3, "\(seen)")   // config and layer, one retried
        #expect(seen.filter { $0 == "PUT" }.count == 3, "\(seen)")
        let pulled = try RegistryAccess(registry).helmPull([("oci://\(registry.name)/site/hello-web", "1.1.0")])
        #expect(pulled == [project.charts.first { $0.name == "hello-web" }!.sha256], "\(pulled)")
    }

    struct Cut: Sendable, CustomStringConvertible {
        /// The proxy sends part of the chunk on to the registry before both connections break.
        let reachesRegistry: Bool
        /// --retries: 0 leaves the resume to the upload (the registry's Range), not the transport.
        var retries = 2
        var description: String {
            (reachesRegistry ? "cut after part of the chunk reached the registry" : "reset before the registry saw it")
                + ", --retries \(retries)"
        }
    }

    /// A 40 MiB layer goes in 32 MiB chunks; the connection breaks 10 MiB into the first one. The
    /// push resumes (or starts the session again) and the registry ends with the right blob.
    @Test(arguments: [Cut(reachesRegistry: false), Cut(reachesRegistry: false, retries: 0), Cut(reachesRegistry: true),
                      Cut(reachesRegistry: true, retries: 0)])
    func aResetInTheMiddleOfALargeBlobIsResumed(_ cut: Cut) throws {
        let project = try PushProject(customChart: false)
        let big = try addLayoutImage(root: project.path + "/images", reference: "example.com/big/app:1", layerSize: 40 << 20)
        let registry = try RegistryServer()
        defer { registry.stop() }
        let proxy = try FaultServer()
        defer { proxy.stop() }
        try proxy.proxy(to: registry.baseURL)
        let uploads = "/v2/site/big/app/blobs/uploads/"
        try proxy.plan("PATCH", prefix: uploads, [cut.reachesRegistry ? .cut(after: 10 << 20) : .resetRequest(after: 10 << 20), .forward()])

        let run = try push(project.path, ["--registry", "127.0.0.1:\(proxy.port)/site", "--plain-http", "--json",
                                          "--retries", String(cut.retries)])
        #expect(run.status == 0, "\(run.stderr)\n\(registry.log().suffix(3000))")
        let patches = try proxy.requests().filter { $0.method == "PATCH" }
        #expect(patches.count >= 3, "\(patches)")
        #expect(patches.first?.contentRange == "0-\((32 << 20) - 1)", "\(patches)")
        #expect(try servedBlobDigest(registry, repository: "site/big/app", digest: big.layer) == big.layer)
        #expect(try RegistryAccess(registry).manifestDigest("site/big/app:1") == big.manifest)
    }

    /// A registry whose upload Location names another host (object storage): the upload goes
    /// there, without the registry's credentials.
    @Test func anUploadOnAnotherHostGetsNoCredentials() throws {
        let project = try PushProject(customChart: false)
        let registry = try RegistryServer(options: .init(authentication: .basic([Self.user])))
        defer { registry.stop() }
        let proxy = try FaultServer()
        defer { proxy.stop() }
        let basic = "Basic " + Data("\(Self.user.username):\(Self.user.password)".utf8).base64EncodedString()
        // Every Location the registry gives names localhost (another origin than 127.0.0.1); the
        // proxy lets requests to localhost through as a pre-signed URL would.
        try proxy.proxy(to: registry.baseURL, locationHost: "localhost:\(proxy.port)", injectHost: "localhost",
                        injectAuthorization: basic)
        let run = try push(project.path, ["--registry", "127.0.0.1:\(proxy.port)/site", "--plain-http"],
                           environment: ["CHARTSYNC_USERNAME": Self.user.username, "CHARTSYNC_PASSWORD": Self.user.password])
        #expect(run.status == 0, "\(run.stderr)")
        let requests = try proxy.requests()
        let elsewhere = requests.filter { $0.host?.hasPrefix("localhost") == true }
        #expect(elsewhere.contains { $0.method == "PUT" }, "\(requests.map { "\($0.method) \($0.host ?? "") \($0.path)" })")
        #expect(elsewhere.allSatisfy { $0.authorization == nil }, "\(elsewhere)")
        #expect(requests.contains { $0.host?.hasPrefix("127.0.0.1") == true && $0.authorization == basic })
        #expect(try RegistryAccess(registry).manifestDigest("site/team/multi:2.0") == project.images[project.source.reference("team/multi", tag: "2.0")])
    }

    /// Harbor answers an upload into a missing project with 404 NOT_FOUND "project ... not found".
    @Test func aMissingHarborProjectIsNamed() throws {
        let project = try PushProject(customChart: false)
        let harbor = try FaultServer()
        defer { harbor.stop() }
        try harbor.plan("/v2/", .status(200, body: Array("{}".utf8)))
        try harbor.plan("POST", prefix: "/v2/", [.status(404, body: Array(#"{"errors":[{"code":"NOT_FOUND","message":"project site not found"}]}"#.utf8),
                                                         headers: ["Content-Type": "application/json"])])
        let run = try push(project.path, ["--registry", "127.0.0.1:\(harbor.port)/site", "--plain-http"])
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("no project \"site\""), "\(run.stderr)")
        #expect(!(try harbor.requests()).contains { $0.method == "PUT" || $0.method == "PATCH" })
    }

    /// Chart directories in charts/custom that cannot be packaged (Chart.yaml without a version, no
    /// Chart.yaml at all): refused before anything is sent (exit 2), each named.
    @Test func chartDirectoriesThatAreNotChartsAreRefusedBeforeAnythingIsSent() throws {
        let delivery = try SmallDelivery()
        try delivery.directory.write("charts/custom/team-chart/Chart.yaml", Array("apiVersion: v2\nname: team-chart\n".utf8))
        try delivery.directory.write("charts/custom/not-a-chart/values.yaml", Array("a: 1\n".utf8))
        let registry = try RegistryServer()
        defer { registry.stop() }
        let run = try push(delivery.path, ["--registry", registry.name + "/site", "--plain-http"], environment: delivery.environment())
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("charts/custom/team-chart/Chart.yaml") && run.stderr.contains("no version"), "\(run.stderr)")
        #expect(run.stderr.contains("charts/custom/not-a-chart: no Chart.yaml"), "\(run.stderr)")
        #expect(registryRequests(registry).isEmpty, "\(registryRequests(registry))")
    }

    /// Ctrl-C while a large blob is on its way: exit 130; the next push sends only what is missing.
    @Test func ctrlCThenTheNextPushSendsOnlyWhatIsMissing() throws {
        let project = try PushProject(customChart: false)
        let big = try addLayoutImage(root: project.path + "/images", reference: "example.com/big/app:1", layerSize: 40 << 20)
        let registry = try RegistryServer()
        defer { registry.stop() }
        let proxy = try FaultServer()
        defer { proxy.stop() }
        try proxy.proxy(to: registry.baseURL)
        // The first chunk of the big layer hangs; later ones go through.
        try proxy.plan("PATCH", prefix: "/v2/site/big/app/blobs/uploads/", [.forward(delay: 60), .forward()])
        let target = ["--registry", "127.0.0.1:\(proxy.port)/site", "--plain-http", "--jobs", "1"]

        let logs = try TemporaryDirectory(prefix: "chartsync-log")
        let child = try ChildProcess([CLI.binary, "push", project.path] + target, outputPath: logs.file("out"))
        let deadline = Date().addingTimeInterval(60)
        while try !proxy.requests().contains(where: { $0.method == "PATCH" }) {
            guard child.isRunning, Date() < deadline else { throw SupportError("no PATCH: \((try? String(contentsOfFile: logs.file("out"), encoding: .utf8)) ?? "")") }
            usleep(20_000)
        }
        let started = Date()
        kill(child.pid, SIGINT)
        let status = child.wait(timeout: 30)
        let output = (try? String(contentsOfFile: logs.file("out"), encoding: .utf8)) ?? ""
        #expect(status == 130, "\(output)")
        #expect(Date().timeIntervalSince(started) < 10, "the stalled upload was not abandoned at once")
        #expect(output.contains("interrupted"), "\(output)")

        let resumed = try push(project.path, target + ["--json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let blobs = try jsonObject(resumed)["blobs"] as? [String: Any] ?? [:]
        // Only the big image's blobs are sent (the layer and at most its config); the rest is there.
        let uploaded = blobs["uploaded"] as? Int ?? 0
        #expect(uploaded == 1 || uploaded == 2, "\(blobs)")
        #expect((blobs["uploadedBytes"] as? Int ?? 0) - (40 << 20) < 1000, "\(blobs)")
        #expect((blobs["present"] as? Int ?? 0) >= 6, "\(blobs)")
        #expect(try servedBlobDigest(registry, repository: "site/big/app", digest: big.layer) == big.layer)
        #expect(try RegistryAccess(registry).manifestDigest("site/big/app:1") == big.manifest)
    }
}
