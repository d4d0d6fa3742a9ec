import ChartSyncTestSupport
import Foundation
import Testing

/// `chartsync push` on the built binary, end to end on 127.0.0.1: a project's charts (pulled from
/// the example repository, plus a custom tarball) and images (pulled with `images --pull` from a
/// source docker-registry) pushed into a second real registry with basic auth, token auth and
/// HTTPS; then real Helm pulls every chart and skopeo inspects every image; a second push
/// uploads nothing.
@Suite struct PushTests {
    struct Setup: Sendable, CustomStringConvertible {
        let token: Bool
        let tls: Bool
        var description: String { (token ? "token auth" : "htpasswd") + (tls ? " over HTTPS" : "") }
    }

    static let user = StaticServer.BasicAuth(username: "robot$site", password: "push-secret-8c1f")

    @Test(arguments: [Setup(token: false, tls: false), Setup(token: true, tls: false), Setup(token: false, tls: true)])
    func pushesEverythingThenNothing(_ setup: Setup) throws {
        let project = try PushProject()
        let registry = try RegistryServer(options: .init(
            authentication: setup.token ? .token(users: [Self.user], anonymousPull: false) : .basic([Self.user]), tls: setup.tls))
        defer { registry.stop() }
        let environment = ["CHARTSYNC_USERNAME": Self.user.username, "CHARTSYNC_PASSWORD": Self.user.password]
        let access = setup.tls ? ["--ca-file", registry.caFile!] : ["--plain-http"]
        let target = registry.name + "/site"

        let first = try push(project.path, ["--registry", target, "--json"] + access, environment: environment)
        #expect(first.status == 0, "\(first.stderr)\n\(registry.log().suffix(3000))")
        #expect(!(first.stdout + first.stderr).contains(Self.user.password))
        let report = try jsonObject(first)
        #expect(report["registry"] as? String == target)
        let artifacts = report["artifacts"] as? [[String: Any]] ?? []
        func artifact(_ pushed: String) -> [String: Any]? { artifacts.first { $0["pushed"] as? String == pushed } }

        // Charts: at HOST/site/<name>:<tag>, from their files; Helm pulls the very bytes of versions.lock.
        let lock = try project.project.read("versions.lock")
        for chart in project.charts {
            let tag = chart.version.replacingOccurrences(of: "+", with: "_")
            let entry = try #require(artifact("\(target)/\(chart.name):\(tag)"), "\(first.stdout)")
            #expect(entry["kind"] as? String == "chart")
            #expect(entry["source"] as? String == chart.file)
            #expect(entry["status"] as? String == "pushed")
            #expect(entry["digest"] as? String == (try RegistryAccess(registry).manifestDigest("site/\(chart.name):\(tag)")))
            if chart.file.hasPrefix("charts/external/") { #expect(lock.contains("sha256: \"\(chart.sha256)\"")) }
        }
        let pulled = try RegistryAccess(registry).helmPull(project.charts.map { ("oci://\(target)/\($0.name)", $0.version) })
        #expect(pulled == project.charts.map(\.sha256), "\(pulled)")

        // Images: at HOST/site/<repository>:<tag>, each with the digest images.lock pins, as skopeo reads it.
        let imagesLock = try project.imagesLock()
        for (reference, digest) in project.images {
            #expect(imagesLock.contains("\(reference)@\(digest)"), "\(imagesLock)")
            let repositoryAndTag = String(reference.dropFirst(project.source.name.count + 1))
            let entry = try #require(artifact("\(target)/\(repositoryAndTag)"), "\(first.stdout)")
            #expect(entry["kind"] as? String == "image")
            #expect(entry["source"] as? String == reference)
            #expect(entry["digest"] as? String == digest)
            #expect(entry["status"] as? String == "pushed")
            #expect(try RegistryAccess(registry).manifestDigest("site/" + repositoryAndTag) == digest)
        }
        #expect(artifacts.count == project.charts.count + project.images.count, "\(first.stdout)")

        // The config and layer the OCI and Docker images share: uploaded once, mounted into the other repository.
        let blobs = report["blobs"] as? [String: Any] ?? [:]
        #expect(blobs["mounted"] as? Int == 2, "\(blobs)")
        #expect((blobs["uploaded"] as? Int ?? 0) > 0 && (blobs["uploadedBytes"] as? Int ?? 0) > 0, "\(blobs)")
        #expect(blobs["present"] as? Int == 0, "\(blobs)")
        let firstRequests = registryRequests(registry)
        #expect(firstRequests.filter { $0.hasPrefix("POST ") && $0.contains("mount=") }.count == 2, "\(firstRequests)")

        // A second push: every artifact unchanged, nothing sent, only HEAD and GET (and token requests elsewhere).
        let second = try push(project.path, ["--registry", target, "--json"] + access, environment: environment)
        #expect(second.status == 0, "\(second.stderr)")
        let again = try jsonObject(second)
        let statuses = (again["artifacts"] as? [[String: Any]] ?? []).map { $0["status"] as? String ?? "?" }
        #expect(statuses == Array(repeating: "unchanged", count: artifacts.count), "\(second.stdout)")
        let sent = again["blobs"] as? [String: Any] ?? [:]
        #expect(sent["uploaded"] as? Int == 0 && sent["mounted"] as? Int == 0 && sent["uploadedBytes"] as? Int == 0, "\(sent)")
        let secondRequests = registryRequests(registry).dropFirst(firstRequests.count)
        #expect(!secondRequests.isEmpty)
        #expect(secondRequests.allSatisfy { $0.hasPrefix("HEAD ") || $0.hasPrefix("GET ") }, "\(secondRequests)")
        // The human report says the same.
        let human = try push(project.path, ["--registry", target] + access, environment: environment)
        #expect(human.status == 0)
        #expect(human.stdout.contains("unchanged  \(target)/hello-web:1.1.0  "), "\(human.stdout)")
        #expect(human.stdout.contains("4 chart(s), 3 image(s); uploaded 0 blob(s)"), "\(human.stdout)")
    }

    /// An extracted delivery of charts (bundle, verify --extract) pushes the same chart manifests as the project.
    @Test func anExtractedDeliveryPushesTheSameCharts() throws {
        let project = try PushProject(customChart: false)
        let registry = try RegistryServer()
        defer { registry.stop() }
        let out = try TemporaryDirectory(prefix: "chartsync-delivery")
        let bundled = try CLI.run(["bundle", "-o", out.file("site.bundle"), "--name", "site", "--sequence", "1"], in: project.path)
        #expect(bundled.status == 0, "\(bundled.stderr)")
        let extracted = try CLI.run(["verify", out.file("site.bundle"), "--extract", out.file("site")], in: out.path)
        #expect(extracted.status == 0, "\(extracted.stderr)")

        let fromSite = try push(out.file("site"), ["--registry", registry.name + "/site", "--plain-http", "--json"])
        #expect(fromSite.status == 0, "\(fromSite.stderr)")
        let charts = (try jsonObject(fromSite)["artifacts"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "chart" }
        #expect(charts.count == 3)
        let fromProject = try push(project.path, ["--registry", registry.name + "/site", "--plain-http", "--json"])
        #expect(fromProject.status == 0, "\(fromProject.stderr)")
        let projectCharts = (try jsonObject(fromProject)["artifacts"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "chart" }
        #expect(projectCharts.map { $0["status"] as? String } == Array(repeating: "unchanged", count: 3), "\(fromProject.stdout)")
        #expect(projectCharts.map { $0["digest"] as? String } == charts.map { $0["digest"] as? String })
        let pulled = try RegistryAccess(registry).helmPull(project.charts.map { ("oci://\(registry.name)/site/\($0.name)", $0.version) })
        #expect(pulled == project.charts.map(\.sha256), "\(pulled)")
    }

    /// A chart directory in charts/custom: packaged as helm package would (.helmignore honoured)
    /// into a temporary directory, never into the delivery; Helm pulls it; the same files give
    /// the same bytes, so a second push after every file's time changed sends nothing.
    @Test func aChartDirectoryIsPackagedReproduciblyAndHelmPullsIt() throws {
        let delivery = try SmallDelivery()
        try delivery.directory.write("charts/custom/site-config/.helmignore", Array("*.bak\n".utf8))
        try delivery.directory.write("charts/custom/site-config/templates/old.bak", Array("left out\n".utf8))
        let registry = try RegistryServer()
        defer { registry.stop() }
        let tmp = try TemporaryDirectory(prefix: "chartsync-tmpdir")
        func tree() throws -> String { try runCommand(["sh", "-c", "cd \"$1\" && find . | sort", "sh", delivery.path]) }
        let before = try tree()

        let first = try push(delivery.path, ["--registry", registry.name + "/site", "--plain-http", "--json"],
                             environment: delivery.environment(["TMPDIR": tmp.path]))
        #expect(first.status == 0, "\(first.stderr)")
        let artifacts = try jsonObject(first)["artifacts"] as? [[String: Any]] ?? []
        let entry = try #require(artifacts.first { $0["pushed"] as? String == "\(registry.name)/site/site-config:0.1.0" }, "\(first.stdout)")
        #expect(entry["kind"] as? String == "chart")
        #expect(entry["source"] as? String == "charts/custom/site-config")
        #expect(try tree() == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path).isEmpty)

        // Helm pulls the very bytes of the layer; the tarball holds what .helmignore leaves in.
        let pulled = try RegistryAccess(registry).helmPull([("oci://\(registry.name)/site/site-config", "0.1.0")])
        let manifest = try runCommand(["curl", "-sf", "-H", "Accept: application/vnd.oci.image.manifest.v1+json",
                                       registry.baseURL + "/v2/site/site-config/manifests/0.1.0"])
        let layers = (try JSONSerialization.jsonObject(with: Data(manifest.utf8)) as? [String: Any])?["layers"] as? [[String: Any]]
        let layer = try #require(layers?.first?["digest"] as? String, "\(manifest)")
        #expect(pulled.map { "sha256:" + $0 } == [layer], "\(pulled)")
        #expect(!manifest.contains("org.opencontainers.image.created"), "\(manifest)")
        let names = try runCommand(["sh", "-c", "curl -sf \"$1\" | python3 -c 'import sys, tarfile; print(*tarfile.open(fileobj=sys.stdin.buffer, mode=\"r|gz\").getnames())'",
                                    "sh", registry.baseURL + "/v2/site/site-config/blobs/" + layer])
        #expect(names.trimmingCharacters(in: .whitespacesAndNewlines) == "site-config/.helmignore site-config/Chart.yaml site-config/templates/cm.yaml")

        // Every file touched: the same tarball, nothing sent.
        try runCommand(["sh", "-c", "find \"$1\" -type f -exec touch -d '2024-06-01 12:00:00' {} +", "sh", delivery.path + "/charts/custom"])
        let second = try push(delivery.path, ["--registry", registry.name + "/site", "--plain-http", "--json"],
                              environment: delivery.environment())
        #expect(second.status == 0, "\(second.stderr)")
        let again = try jsonObject(second)
        #expect((again["artifacts"] as? [[String: Any]] ?? []).allSatisfy { $0["status"] as? String == "unchanged" }, "\(second.stdout)")
        #expect((again["blobs"] as? [String: Any])?["uploaded"] as? Int == 0, "\(second.stdout)")

        // SOURCE_DATE_EPOCH is the entry time, and the manifest's created annotation.
        let dated = try push(delivery.path, ["--registry", registry.name + "/dated", "--plain-http", "--json"],
                             environment: delivery.environment(["SOURCE_DATE_EPOCH": "1700000000"]))
        #expect(dated.status == 0, "\(dated.stderr)")
        let datedEntry = (try jsonObject(dated)["artifacts"] as? [[String: Any]] ?? []).first { $0["source"] as? String == "charts/custom/site-config" }
        #expect(datedEntry?["digest"] as? String != entry["digest"] as? String)
        let datedManifest = try runCommand(["curl", "-sf", "-H", "Accept: application/vnd.oci.image.manifest.v1+json",
                                            registry.baseURL + "/v2/dated/site-config/manifests/0.1.0"])
        #expect(datedManifest.contains("\"org.opencontainers.image.created\":\"2023-11-14T22:13:20Z\""), "\(datedManifest)")
    }

    /// A chart directory that cannot be packaged stops the push before anything is sent (exit 2), naming the file.
    @Test func aChartDirectoryWithALinkIsRefusedBeforeAnythingIsSent() throws {
        let delivery = try SmallDelivery()
        try FileManager.default.createSymbolicLink(atPath: delivery.path + "/charts/custom/site-config/templates/link.yaml",
                                                   withDestinationPath: "cm.yaml")
        let registry = try RegistryServer()
        defer { registry.stop() }
        let run = try push(delivery.path, ["--registry", registry.name + "/site", "--plain-http"], environment: delivery.environment())
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("charts/custom/site-config/templates/link.yaml"), "\(run.stderr)")
        #expect(!registryRequests(registry).contains { $0.hasPrefix("PUT ") || $0.hasPrefix("POST ") })
    }
}
