import ChartSyncTestSupport
import Foundation
import Testing

/// How `chartsync push` reaches a registry: credentials from docker's config.json and from
/// `--credentials-file`, `--insecure-skip-tls-verify` (with its warning) and the TLS error
/// without it, client certificates (mutual TLS), and `--keep-source-registry`'s image paths.
@Suite struct PushAccessTests {
    static let user = StaticServer.BasicAuth(username: "robot$site", password: "push-secret-8c1f")

    /// Writes a docker config.json holding `user:password` for `host` into a fresh directory.
    static func dockerConfig(host: String, user: String, password: String) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory(prefix: "chartsync-docker-config")
        let auth = Data((user + ":" + password).utf8).base64EncodedString()
        try directory.write("config.json", Array("{\"auths\":{\"\(host)\":{\"auth\":\"\(auth)\"}}}".utf8))
        return directory
    }

    @Test func credentialsFromDockersConfigJSON() throws {
        let delivery = try SmallDelivery()
        let registry = try RegistryServer(options: .init(authentication: .basic([Self.user])))
        defer { registry.stop() }
        let target = ["--registry", registry.name + "/site", "--plain-http", "--json"]

        // No credentials anywhere: refused (exit 2), nothing written.
        let anonymous = try push(delivery.path, target, environment: delivery.environment())
        #expect(anonymous.status == 2, "\(anonymous.stderr)")
        #expect(!registryRequests(registry).contains { $0.hasPrefix("PUT ") })

        // A wrong password in config.json: refused, and not shown.
        let wrong = try Self.dockerConfig(host: registry.name, user: Self.user.username, password: "stale-secret-0001")
        let refused = try push(delivery.path, target, environment: delivery.environment(["DOCKER_CONFIG": wrong.path]))
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(!(refused.stdout + refused.stderr).contains("stale-secret-0001"))

        // The right one: everything pushed, the password never shown.
        let config = try Self.dockerConfig(host: registry.name, user: Self.user.username, password: Self.user.password)
        let run = try push(delivery.path, target, environment: delivery.environment(["DOCKER_CONFIG": config.path]))
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!(run.stdout + run.stderr).contains(Self.user.password))
        let artifacts = try jsonObject(run)["artifacts"] as? [[String: Any]] ?? []
        #expect(artifacts.map { $0["pushed"] as? String ?? "" } == [
            "\(registry.name)/site/hello-web:1.1.0", "\(registry.name)/site/site-config:0.1.0", "\(registry.name)/site/team/app:1.0",
        ], "\(run.stdout)")
        #expect(try RegistryAccess(registry).manifestDigest("site/team/app:1.0") == delivery.image.digest)
    }

    @Test func credentialsFromACredentialsFileWinOverDockersConfig() throws {
        let delivery = try SmallDelivery()
        let registry = try RegistryServer(options: .init(authentication: .token(users: [Self.user], anonymousPull: false)))
        defer { registry.stop() }
        let file = try TemporaryDirectory(prefix: "chartsync-credentials")
        try file.write("robot", Array("username: \(Self.user.username)\npassword: \(Self.user.password)\n".utf8))
        let stale = try Self.dockerConfig(host: registry.name, user: Self.user.username, password: "stale-secret-0002")

        let arguments = ["--registry", registry.name + "/site", "--plain-http", "--credentials-file", file.file("robot")]

        // Readable by others: refused before anything is asked (exit 2).
        try runCommand(["chmod", "0644", file.file("robot")])
        let open = try push(delivery.path, arguments, environment: delivery.environment(["DOCKER_CONFIG": stale.path]))
        #expect(open.status == 2, "\(open.stderr)")
        #expect(open.stderr.contains("chmod 600"), "\(open.stderr)")

        try runCommand(["chmod", "0600", file.file("robot")])
        let run = try push(delivery.path, arguments, environment: delivery.environment(["DOCKER_CONFIG": stale.path]))
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!(run.stdout + run.stderr).contains(Self.user.password))
        #expect(try RegistryAccess(registry).manifestDigest("site/team/app:1.0") == delivery.image.digest)
        // The token service saw the robot, authorized.
        let requests = try #require(registry.tokenServer).requests()
        #expect(requests.contains { $0.user == Self.user.username && $0.authorized }, "\(requests)")
        #expect(!requests.contains { $0.user == Self.user.username && !$0.authorized }, "\(requests)")
    }

    @Test func anUnverifiedCertificateIsAnErrorUnlessSkippedWithAWarning() throws {
        let delivery = try SmallDelivery()
        let registry = try RegistryServer(options: .init(tls: true))
        defer { registry.stop() }
        let target = ["--registry", registry.name + "/site", "--json"]

        let refused = try push(delivery.path, target, environment: delivery.environment())
        #expect(refused.status == 3, "\(refused.stderr)")
        #expect(refused.stderr.lowercased().contains("certificate"), "\(refused.stderr)")
        #expect(!registryRequests(registry).contains { $0.hasPrefix("PUT ") || $0.hasPrefix("POST ") })

        let skipped = try push(delivery.path, target + ["--insecure-skip-tls-verify"], environment: delivery.environment())
        #expect(skipped.status == 0, "\(skipped.stderr)")
        #expect(skipped.stderr.contains("warning:"), "\(skipped.stderr)")
        #expect(skipped.stderr.contains(registry.name), "\(skipped.stderr)")
        #expect((try jsonObject(skipped)["artifacts"] as? [[String: Any]])?.count == 3, "\(skipped.stdout)")
        #expect(try RegistryAccess(registry).manifestDigest("site/team/app:1.0") == delivery.image.digest)
    }

    @Test func clientCertificatesForMutualTLS() throws {
        let delivery = try SmallDelivery()
        let registry = try RegistryServer(options: .init(clientCertificates: true))
        defer { registry.stop() }
        let pki = try #require(registry.pki)
        let target = ["--registry", registry.name + "/site", "--ca-file", pki.caFile]

        let without = try push(delivery.path, target, environment: delivery.environment())
        #expect(without.status == 3, "\(without.stderr)")

        let with = try push(delivery.path, target + ["--cert-file", pki.clientCertFile, "--key-file", pki.clientKeyFile, "--json"],
                            environment: delivery.environment())
        #expect(with.status == 0, "\(with.stderr)")
        let image = (try jsonObject(with)["artifacts"] as? [[String: Any]] ?? []).first { $0["kind"] as? String == "image" }
        #expect(image?["digest"] as? String == delivery.image.digest, "\(with.stdout)")
        // Read back with the client certificate: the registry serves that digest under the tag.
        let served = try runCommand([
            "sh", "-c", "curl -sf --cacert \"$1\" --cert \"$2\" --key \"$3\" -H 'Accept: application/vnd.oci.image.manifest.v1+json' \"$4\" | sha256sum | cut -c1-64",
            "sh", pki.caFile, pki.clientCertFile, pki.clientKeyFile, registry.baseURL + "/v2/site/team/app/manifests/1.0",
        ]).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect("sha256:" + served == delivery.image.digest)
    }

    @Test func keepSourceRegistryPutsImagesUnderTheirHostWithThePortAsADash() throws {
        let project = try PushProject(customChart: false)
        let registry = try RegistryServer()
        defer { registry.stop() }
        let run = try push(project.path, ["--registry", registry.name + "/site", "--plain-http", "--keep-source-registry", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let artifacts = try jsonObject(run)["artifacts"] as? [[String: Any]] ?? []
        let host = project.source.name.replacingOccurrences(of: ":", with: "-")
        let imagesLock = try project.imagesLock()
        for (reference, digest) in project.images {
            #expect(imagesLock.contains("\(reference)@\(digest)"), "\(imagesLock)")
            let repositoryAndTag = String(reference.dropFirst(project.source.name.count + 1))
            let pushed = "\(registry.name)/site/\(host)/\(repositoryAndTag)"
            let entry = try #require(artifacts.first { $0["pushed"] as? String == pushed }, "\(run.stdout)")
            #expect(entry["digest"] as? String == digest)
            #expect(try RegistryAccess(registry).manifestDigest("site/\(host)/\(repositoryAndTag)") == digest)
        }
        // Charts are not affected: HOST/site/<chart>.
        #expect(artifacts.contains { $0["pushed"] as? String == "\(registry.name)/site/hello-web:1.1.0" }, "\(run.stdout)")
    }
}
