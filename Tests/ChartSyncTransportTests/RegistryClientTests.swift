import ChartSyncCore
import ChartSyncTestSupport
import ChartSyncTransport
import Foundation
import Testing

private let alice = StaticServer.BasicAuth(username: "alice", password: "Al1ce-s3cret-pw")

/// `RegistryClient` against Debian's docker-registry (distribution 2.8) on 127.0.0.1, with images
/// pushed over the distribution API by the test support's independent push script.
@Suite("RegistryClient against a real registry")
struct RegistryClientTests {
    // MARK: Anonymous registry

    @Test("tags resolve to exactly the digests the registry reported on push (Docker v2 and OCI)")
    func anonymousResolve() throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        let docker = try registry.push("team/app", tag: "1.0.0", format: .docker, seed: 1)
        let oci = try registry.push("team/app", tag: "2.0.0-oci", format: .oci, seed: 2)
        let latest = try registry.push("tools", tag: "latest", seed: 3)
        #expect(docker.digest != oci.digest)
        let recorder = Recorder()
        let resolver = registryClient(for: registry.name, recorder: recorder)

        #expect(try resolver.resolve(imageReference(registry.reference("team/app", tag: "1.0.0"))) == docker.digest)
        #expect(try resolver.resolve(imageReference(registry.reference("team/app", tag: "2.0.0-oci"))) == oci.digest)
        // No tag means latest.
        #expect(try resolver.resolve(imageReference("\(registry.name)/tools")) == latest.digest)
        // A digest reference is checked to exist and returned.
        #expect(try resolver.resolve(imageReference("\(registry.name)/team/app@\(docker.digest)")) == docker.digest)
        #expect(try resolver.resolve(imageReference("\(registry.name)/team/app:ignored@\(oci.digest)")) == oci.digest)
        #expect(recorder.events.isEmpty)
        // HEAD requests were enough: the registry sent Docker-Content-Digest.
        #expect(!registry.log().contains("\"GET /v2/team/app/manifests"))
    }

    @Test("an image index tag resolves to the index digest, not a platform manifest's", arguments: [
        PushedImage.Format.oci, .docker,
    ])
    func indexResolvesToIndexDigest(format: PushedImage.Format) throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        let index = try registry.pushIndex("multi/arch", tag: "v1", format: format)
        #expect(index.manifests.count == 2)
        #expect(index.mediaType.contains(format == .oci ? "oci.image.index" : "manifest.list"))
        let digest = try registryClient(for: registry.name).resolve(imageReference(registry.reference("multi/arch", tag: "v1")))
        #expect(digest == index.digest)
        #expect(!index.manifests.contains(digest))
        // The children exist by digest.
        for child in index.manifests {
            #expect(try registryClient(for: registry.name).resolve(imageReference("\(registry.name)/multi/arch@\(child)")) == child)
        }
    }

    @Test("an unknown tag is manifestUnknown naming the image (input)")
    func unknownTag() throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        try registry.push("team/app", tag: "1.0.0")
        let error = try resolveError(registryClient(for: registry.name), registry.reference("team/app", tag: "9.9.9"))
        #expect(error == .manifestUnknown(image: registry.reference("team/app", tag: "9.9.9")))
        #expect(error?.category == .input)
        #expect(error?.description.contains("\(registry.name)/team/app:9.9.9") == true)
        #expect(error?.description.contains("not found") == true)
        // An unknown digest in a known repository too.
        let missing = "sha256:" + String(repeating: "0", count: 64)
        #expect(try resolveError(registryClient(for: registry.name), "\(registry.name)/team/app@\(missing)")
            == .manifestUnknown(image: "\(registry.name)/team/app@\(missing)"))
    }

    @Test("an unknown repository is repositoryUnknown naming the image and registry (input)")
    func unknownRepository() throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        try registry.push("team/app", tag: "1.0.0")
        let error = try resolveError(registryClient(for: registry.name), registry.reference("team/nothing", tag: "1.0.0"))
        #expect(error == .repositoryUnknown(image: registry.reference("team/nothing", tag: "1.0.0"), registry: registry.name))
        #expect(error?.category == .input)
        #expect(error?.description.contains("no such repository") == true)
    }

    @Test("a closed port is unreachable naming the registry (io), without retries")
    func unreachable() throws {
        let port = try LoopbackPort.closed()
        let name = "127.0.0.1:\(port)"
        let recorder = Recorder()
        let error = try resolveError(registryClient(for: name, recorder: recorder), "\(name)/team/app:1.0.0")
        guard case let .unreachable(registry, url, message)? = error else {
            Issue.record("expected unreachable, got \(String(describing: error))")
            return
        }
        #expect(registry == name)
        #expect(url == "http://\(name)/v2/team/app/manifests/1.0.0")
        #expect(message.contains("curl error 7"))
        #expect(error?.category == .io)
        #expect(error?.description.contains("cannot reach registry \(name)") == true)
        #expect(recorder.retries.isEmpty)
    }

    @Test("a registry not allowed plain HTTP is spoken to over HTTPS only (a plain HTTP registry fails TLS)")
    func plainHTTPNeedsPermission() throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        try registry.push("team/app", tag: "1.0.0")
        let error = try resolveError(registryClient(for: registry.name, plainHTTP: false), registry.reference("team/app", tag: "1.0.0"))
        guard case let .transport(name, transportError)? = error, case .tls = transportError else {
            Issue.record("expected a TLS transport error, got \(String(describing: error))")
            return
        }
        #expect(name == registry.name)
        #expect(error?.category == .io)
        #expect(!registry.log().contains("\"HEAD /v2/team/app/manifests/1.0.0"))
    }

    // MARK: Basic auth (htpasswd)

    @Test("basic auth: the configured user resolves; the registry is then sent credentials up front")
    func basicAuth() throws {
        let registry = try RegistryServer(options: .init(authentication: .basic([alice])))
        defer { registry.stop() }
        let pushed = try registry.push("private/app", tag: "1.0")
        let other = try registry.push("private/other", tag: "1.0", seed: 5)
        let resolver = registryClient(for: registry.name, credentials: .basic(username: alice.username, password: alice.password))
        #expect(try resolver.resolve(imageReference(registry.reference("private/app", tag: "1.0"))) == pushed.digest)
        #expect(try resolver.resolve(imageReference(registry.reference("private/other", tag: "1.0"))) == other.digest)
        // First image: anonymous HEAD (401), then with credentials; second image: credentials at once.
        let heads = registry.log().split(separator: "\n")
            .filter { $0.hasPrefix("127.0.0.1 ") && $0.contains("\"HEAD /v2/private/") }
        #expect(heads.count == 3, "access log: \(heads)")
        #expect(heads.filter { $0.contains("HTTP/1.1\" 401 ") }.count == 1, "access log: \(heads)")
    }

    @Test("basic auth: a wrong password fails naming the registry and the user, never the password (input)")
    func basicAuthWrongPassword() throws {
        let registry = try RegistryServer(options: .init(authentication: .basic([alice])))
        defer { registry.stop() }
        try registry.push("private/app", tag: "1.0")
        let wrong = "Wr0ng-pa55word-123"
        let recorder = Recorder()
        let error = try resolveError(
            registryClient(for: registry.name, credentials: .basic(username: alice.username, password: wrong), recorder: recorder),
            registry.reference("private/app", tag: "1.0"))
        guard case let .authenticationFailed(name, reason)? = error else {
            Issue.record("expected authenticationFailed, got \(String(describing: error))")
            return
        }
        #expect(name == registry.name)
        #expect(reason.contains("\"alice\""))
        #expect(error?.category == .input)
        for text in texts(error) + recorder.events.map(\.description) {
            #expect(!text.contains(wrong))
            #expect(!text.contains(alice.password))
        }
    }

    @Test("basic auth without credentials is credentialsRequired naming the registry (input)")
    func basicAuthNoCredentials() throws {
        let registry = try RegistryServer(options: .init(authentication: .basic([alice])))
        defer { registry.stop() }
        try registry.push("private/app", tag: "1.0")
        let error = try resolveError(registryClient(for: registry.name), registry.reference("private/app", tag: "1.0"))
        #expect(error == .credentialsRequired(registry: registry.name))
        #expect(error?.category == .input)
        #expect(error?.description.contains(registry.name) == true)
    }

    // MARK: Token auth

    @Test("token auth with anonymous pull: an anonymous token, fetched once per repository for the run")
    func tokenAnonymousPull() throws {
        let registry = try RegistryServer(options: .init(authentication: .token(users: [alice], anonymousPull: true)))
        defer { registry.stop() }
        let one = try registry.push("public/app", tag: "1.0")
        let two = try registry.push("public/app", tag: "2.0", seed: 2)
        let other = try registry.push("public/other", tag: "1.0", seed: 3)
        let tokens = try #require(registry.tokenServer)
        let pushes = try tokens.requests().count
        let resolver = registryClient(for: registry.name)

        #expect(try resolver.resolve(imageReference(registry.reference("public/app", tag: "1.0"))) == one.digest)
        #expect(try resolver.resolve(imageReference(registry.reference("public/app", tag: "2.0"))) == two.digest)
        #expect(try resolver.resolve(imageReference(registry.reference("public/other", tag: "1.0"))) == other.digest)

        let requests = try Array(tokens.requests().dropFirst(pushes))
        #expect(requests.map(\.scopes) == [["repository:public/app:pull"], ["repository:public/other:pull"]])
        #expect(requests.allSatisfy { $0.service == RegistryTokenServer.service && !$0.authorized && $0.user == nil })
    }

    @Test("token auth with credentials: the token service gets the basic credentials", arguments: ["token", "access_token"])
    func tokenWithCredentials(tokenField: String) throws {
        let registry = try RegistryServer(options: .init(
            authentication: .token(users: [alice], anonymousPull: false, tokenField: tokenField)))
        defer { registry.stop() }
        let pushed = try registry.push("private/app", tag: "1.0")
        let tokens = try #require(registry.tokenServer)
        let pushes = try tokens.requests().count
        let resolver = registryClient(for: registry.name, credentials: .basic(username: alice.username, password: alice.password))
        #expect(try resolver.resolve(imageReference(registry.reference("private/app", tag: "1.0"))) == pushed.digest)
        let requests = try Array(tokens.requests().dropFirst(pushes))
        #expect(requests.map(\.user) == ["alice"])
        #expect(requests.map(\.scopes) == [["repository:private/app:pull"]])
    }

    @Test("token auth: anonymous access refused, a wrong password refused, an unknown image: clear errors")
    func tokenFailures() throws {
        let registry = try RegistryServer(options: .init(authentication: .token(users: [alice], anonymousPull: false)))
        defer { registry.stop() }
        try registry.push("private/app", tag: "1.0")
        let image = registry.reference("private/app", tag: "1.0")

        let anonymous = try resolveError(registryClient(for: registry.name), image)
        guard case let .authenticationFailed(name, reason)? = anonymous else {
            Issue.record("expected authenticationFailed, got \(String(describing: anonymous))")
            return
        }
        #expect(name == registry.name)
        #expect(reason.contains("anonymous"))
        #expect(anonymous?.category == .input)

        let wrong = "N0t-the-pa55word"
        let refused = try resolveError(
            registryClient(for: registry.name, credentials: .basic(username: alice.username, password: wrong)), image)
        guard case let .authenticationFailed(refusedName, refusedReason)? = refused else {
            Issue.record("expected authenticationFailed, got \(String(describing: refused))")
            return
        }
        #expect(refusedName == registry.name)
        #expect(refusedReason.contains("\"alice\""))
        for text in texts(refused) { #expect(!text.contains(wrong)) }

        let resolver = registryClient(for: registry.name, credentials: .basic(username: alice.username, password: alice.password))
        #expect(try resolveError(resolver, registry.reference("private/app", tag: "nope"))
            == .manifestUnknown(image: registry.reference("private/app", tag: "nope")))
        #expect(try resolveError(resolver, registry.reference("private/none", tag: "1.0"))
            == .repositoryUnknown(image: registry.reference("private/none", tag: "1.0"), registry: registry.name))
    }

    // MARK: TLS

    @Test("https with the test CA (registry and token service); without the CA a TLS error (io)")
    func httpsWithCA() throws {
        let registry = try RegistryServer(options: .init(
            authentication: .token(users: [alice], anonymousPull: true), tls: true))
        defer { registry.stop() }
        #expect(registry.scheme == "https")
        let pushed = try registry.push("secure/app", tag: "1.0")
        let image = try imageReference(registry.reference("secure/app", tag: "1.0"))
        let trusted = registryClient(for: registry.name, plainHTTP: false, caFile: registry.caFile)
        #expect(try trusted.resolve(image) == pushed.digest)
        let withCredentials = registryClient(for: registry.name, plainHTTP: false,
                                     credentials: .basic(username: alice.username, password: alice.password),
                                     caFile: registry.caFile)
        #expect(try withCredentials.resolve(image) == pushed.digest)
        #expect(try registry.tokenServer?.requests().last?.user == "alice")

        let error = try resolveError(registryClient(for: registry.name, plainHTTP: false), image.description)
        guard case let .transport(name, transportError)? = error, case .tls = transportError else {
            Issue.record("expected a TLS error, got \(String(describing: error))")
            return
        }
        #expect(name == registry.name)
        #expect(error?.category == .io)
    }

    @Test("several threads resolve with one client at once")
    func concurrent() throws {
        let registry = try RegistryServer(options: .init(authentication: .token(users: [alice], anonymousPull: true)))
        defer { registry.stop() }
        var expected: [String] = []
        for index in 0..<6 {
            expected.append(try registry.push("c/app\(index % 2)", tag: "v\(index)", seed: index + 1).digest)
        }
        let resolver = registryClient(for: registry.name)
        let results = DigestResults()
        DispatchQueue.concurrentPerform(iterations: 6) { index in
            let outcome = Result { () throws(RegistryError) -> String in
                try resolver.resolve(ImageReference(registry: registry.name, repository: "c/app\(index % 2)",
                                                    tag: "v\(index)", digest: nil))
            }
            results.set(index, outcome)
        }
        for index in 0..<6 {
            #expect(try results.get(index)?.get() == expected[index])
        }
    }
}

/// Results from several threads.
private final class DigestResults: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int: Result<String, RegistryError>] = [:]
    func set(_ index: Int, _ value: Result<String, RegistryError>) { lock.withLock { values[index] = value } }
    func get(_ index: Int) -> Result<String, RegistryError>? { lock.withLock { values[index] } }
}
