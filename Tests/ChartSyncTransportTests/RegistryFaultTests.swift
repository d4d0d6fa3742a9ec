import ChartSyncCore
import ChartSyncTestSupport
import ChartSyncTransport
import Foundation
import Testing

/// A small OCI image manifest, as a registry would serve it.
private let manifestBody = Array("""
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",\
"config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},\
"layers":[]}
""".utf8)
private let ociManifest = "application/vnd.oci.image.manifest.v1+json"
private let someDigest = "sha256:" + String(repeating: "ab", count: 32)

/// The SHA-256 of `bytes` as `sha256:<hex>`, computed by the `sha256sum` tool.
private func independentDigest(_ bytes: [UInt8]) throws -> String {
    let dir = try TemporaryDirectory()
    return "sha256:" + (try sha256sum(file: try dir.write("body", bytes)))
}

/// `RegistryClient` against the scriptable fault server posing as a registry: answers a real
/// registry does not give (no digest header, bad tokens, redirects, odd statuses).
@Suite("RegistryClient against a scripted registry")
struct RegistryFaultTests {
    let faults: FaultServer
    var name: String { "127.0.0.1:\(faults.port)" }
    let path = "/v2/team/app/manifests/1.0"

    init() throws {
        faults = try FaultServer()
    }

    func challenge(realm: String? = nil) -> [String: String] {
        ["WWW-Authenticate": #"Bearer realm="\#(realm ?? faults.url("/token"))",service="fault-registry",scope="repository:team/app:pull""#]
    }

    @Test("without Docker-Content-Digest the GET body is hashed; the Accept header lists the four media types")
    func noDigestHeader() throws {
        defer { faults.stop() }
        try faults.plan(path, .ok(manifestBody, headers: ["Content-Type": ociManifest]))
        let digest = try registryClient(for: name).resolve(imageReference("\(name)/team/app:1.0"))
        #expect(digest == (try independentDigest(manifestBody)))
        let logged = try faults.requests(path: path)
        #expect(logged.map(\.method) == ["HEAD", "GET"])
        for request in logged {
            #expect(request.accept == RegistryClient.manifestMediaTypes.joined(separator: ", "))
        }
        #expect(RegistryClient.manifestMediaTypes.count == 4)
    }

    @Test("a body that does not hash to the registry's digest header is digestMismatch (verification)")
    func bodyDigestMismatch() throws {
        defer { faults.stop() }
        try faults.plan(path, .ok(manifestBody, headers: ["Content-Type": ociManifest]),
                        .ok(manifestBody, headers: ["Content-Type": ociManifest, "Docker-Content-Digest": someDigest]))
        let error = try resolveError(registryClient(for: name), "\(name)/team/app:1.0")
        #expect(error == .digestMismatch(image: "\(name)/team/app:1.0", expected: someDigest,
                                         actual: try independentDigest(manifestBody)))
        #expect(error?.category == .verification)
    }

    @Test("a HEAD by digest answered with another digest is digestMismatch")
    func headOtherDigest() throws {
        defer { faults.stop() }
        let wanted = "sha256:" + String(repeating: "cd", count: 32)
        try faults.plan("/v2/team/app/manifests/\(wanted)", .ok([], headers: ["Docker-Content-Digest": someDigest]))
        #expect(try resolveError(registryClient(for: name), "\(name)/team/app@\(wanted)")
            == .digestMismatch(image: "\(name)/team/app@\(wanted)", expected: wanted, actual: someDigest))
    }

    @Test("answers that are no manifest or no digest are malformedResponse (io)", arguments: [
        (FaultResponse.ok(Array("<html>portal</html>".utf8), headers: ["Content-Type": "text/html"]), "not a schema 2"),
        (.ok(Array(#"{"schemaVersion":1,"name":"x"}"#.utf8), headers: ["Content-Type": "application/json"]), "not a schema 2"),
        (.ok([], headers: ["Docker-Content-Digest": "sha256 nonsense"]), "is not a digest"),
        (.status(401, headers: ["WWW-Authenticate": "Negotiate"]), "without a Basic or Bearer challenge"),
        (.status(401, headers: ["WWW-Authenticate": #"Bearer service="x""#]), "without a realm"),
    ])
    func malformedAnswers(response: FaultResponse, reason: String) throws {
        defer { faults.stop() }
        try faults.plan(path, response)
        let error = try resolveError(registryClient(for: name), "\(name)/team/app:1.0")
        guard case let .malformedResponse(registry, url, text)? = error else {
            Issue.record("expected malformedResponse, got \(String(describing: error))")
            return
        }
        #expect(registry == name)
        #expect(url == faults.url(path))
        #expect(text.contains(reason), "\(text)")
        #expect(error?.category == .io)
    }

    @Test("a malformed token response is malformedResponse naming the token service's answer", arguments: [
        "not json at all", #"{"expires_in":300}"#, #"{"token":""}"#, #"{"token":42}"#, #"{"token":"a\nb"}"#,
    ])
    func malformedToken(body: String) throws {
        defer { faults.stop() }
        try faults.plan(path, .status(401, headers: challenge()))
        try faults.plan("/token", .ok(Array(body.utf8), headers: ["Content-Type": "application/json"]))
        let error = try resolveError(registryClient(for: name), "\(name)/team/app:1.0")
        guard case let .malformedResponse(registry, _, reason)? = error else {
            Issue.record("expected malformedResponse, got \(String(describing: error))")
            return
        }
        #expect(registry == name)
        #expect(reason.contains("malformed token response"))
        #expect(error?.category == .io)
        let tokenRequest = try #require(try faults.requests(path: "/token").first)
        #expect(tokenRequest.path == "/token?service=fault-registry&scope=repository:team/app:pull")
        #expect(tokenRequest.authorization == nil)
    }

    @Test("a token the registry refuses is authenticationFailed after one token request, no loop")
    func tokenRefusedByRegistry() throws {
        defer { faults.stop() }
        try faults.plan(path, .status(401, headers: challenge()))
        try faults.plan("/token", .ok(Array(#"{"token":"tok-refused-1234"}"#.utf8)))
        let error = try resolveError(
            registryClient(for: name, credentials: .basic(username: "alice", password: "pw-never-shown")),
            "\(name)/team/app:1.0")
        guard case let .authenticationFailed(registry, reason)? = error else {
            Issue.record("expected authenticationFailed, got \(String(describing: error))")
            return
        }
        #expect(registry == name)
        #expect(reason.contains("\"alice\""))
        #expect(try faults.requests(path: "/token").count == 1)
        #expect(try faults.requests(path: path).map(\.authorization) == [nil, "Bearer tok-refused-1234"])
        #expect(try faults.requests(path: "/token").first?.authorization?.hasPrefix("Basic ") == true)
        for text in texts(error) {
            #expect(!text.contains("pw-never-shown"))
            #expect(!text.contains("tok-refused-1234"))
        }
    }

    @Test("credentials do not follow a redirect to another host (basic, and a fetched bearer token)", arguments: [
        "basic", "bearer",
    ])
    func redirectDropsCredentials(flavour: String) throws {
        defer { faults.stop() }
        let moved = faults.url("/moved", host: "localhost")
        let challengeHeaders = flavour == "basic" ? ["WWW-Authenticate": #"Basic realm="fault""#] : challenge()
        try faults.plan(path, .status(401, headers: challengeHeaders), .redirect(to: moved, status: 307))
        try faults.plan("/token", .ok(Array(#"{"token":"tok-stays-home-99"}"#.utf8)))
        try faults.plan("/moved", .ok([], headers: ["Docker-Content-Digest": someDigest]))
        let recorder = Recorder()
        let resolver = registryClient(for: name, credentials: .basic(username: "alice", password: "pw-stays-home-1"),
                                      recorder: recorder)
        #expect(try resolver.resolve(imageReference("\(name)/team/app:1.0")) == someDigest)
        let here = try faults.requests(path: path)
        #expect(here.count == 2)
        #expect(here[0].authorization == nil)
        #expect(here[1].authorization?.hasPrefix(flavour == "basic" ? "Basic " : "Bearer ") == true)
        let there = try faults.requests(path: "/moved")
        #expect(there.count == 1)
        #expect(there.first?.host == "localhost:\(faults.port)")
        #expect(there.first?.authorization == nil)
        #expect(recorder.events == [.redirected(from: faults.url(path), to: moved)])
    }

    @Test("a plain-HTTP token realm on another host is refused unless that host is allowed plain HTTP")
    func insecureRealm() throws {
        defer { faults.stop() }
        let realm = faults.url("/token", host: "localhost")
        try faults.plan(path, .status(401, headers: challenge(realm: realm)),
                        .ok([], headers: ["Docker-Content-Digest": someDigest]))
        try faults.plan("/token", .ok(Array(#"{"access_token":"tok-realm-5678"}"#.utf8)))
        let error = try resolveError(registryClient(for: name), "\(name)/team/app:1.0")
        #expect(error == .insecureTokenRealm(registry: name, realm: realm))
        #expect(error?.category == .input)
        #expect(try faults.requests(path: "/token").isEmpty)

        try faults.plan(path, .status(401, headers: challenge(realm: realm)),
                        .ok([], headers: ["Docker-Content-Digest": someDigest]))
        let allowed = RegistryClient(endpoints: [
            name: RegistryEndpoint(plainHTTP: true, transport: quickOptions()),
            "localhost:\(faults.port)": RegistryEndpoint(plainHTTP: true),
        ])
        #expect(try allowed.resolve(imageReference("\(name)/team/app:1.0")) == someDigest)
        #expect(try faults.requests(path: "/token").count == 1)
        #expect(try faults.requests(path: path).last?.authorization == "Bearer tok-realm-5678")
    }

    @Test("a configured bearer token is sent as it is; refused, it is authenticationFailed")
    func configuredBearer() throws {
        defer { faults.stop() }
        try faults.plan(path, .ok([], headers: ["Docker-Content-Digest": someDigest]))
        let resolver = registryClient(for: name, credentials: .bearer(token: "tok-configured-42"))
        #expect(try resolver.resolve(imageReference("\(name)/team/app:1.0")) == someDigest)
        #expect(try faults.requests(path: path).map(\.authorization) == ["Bearer tok-configured-42"])

        try faults.plan(path, .status(401, headers: challenge()))
        let error = try resolveError(resolver, "\(name)/team/app:1.0")
        #expect(error == .authenticationFailed(registry: name, reason: "the registry refused the configured bearer token"))
        #expect(try faults.requests(path: "/token").isEmpty)
    }

    @Test("statuses: 503 then 200 is retried; 403 is accessDenied (input); a persisting 500 is transport (io)")
    func statuses() throws {
        defer { faults.stop() }
        try faults.plan(path, .status(503), .ok([], headers: ["Docker-Content-Digest": someDigest]))
        let recorder = Recorder()
        #expect(try registryClient(for: name, recorder: recorder).resolve(imageReference("\(name)/team/app:1.0")) == someDigest)
        #expect(recorder.retries.count == 1)

        try faults.plan(path, .status(403))
        let denied = try resolveError(registryClient(for: name), "\(name)/team/app:1.0")
        #expect(denied == .accessDenied(image: "\(name)/team/app:1.0", registry: name))
        #expect(denied?.category == .input)

        try faults.plan(path, .status(500))
        let failed = try resolveError(registryClient(for: name), "\(name)/team/app:1.0")
        #expect(failed == .transport(registry: name, .httpStatus(url: faults.url(path), code: 500)))
        #expect(failed?.category == .io)

        try faults.plan(path, .status(400, body: Array(#"{"errors":[{"code":"TAG_INVALID","message":"bad tag"}]}"#.utf8)))
        let odd = try resolveError(registryClient(for: name), "\(name)/team/app:1.0")
        #expect(odd == .unexpectedStatus(image: "\(name)/team/app:1.0", url: faults.url(path), status: 400,
                                         message: "TAG_INVALID: bad tag"))
    }

    @Test("a cancelled client stops with cancelled (interrupted) before any request")
    func cancelled() throws {
        defer { faults.stop() }
        let cancellation = Cancellation()
        cancellation.cancel()
        let resolver = RegistryClient(endpoints: [name: RegistryEndpoint(plainHTTP: true)], cancellation: cancellation)
        let error = try resolveError(resolver, "\(name)/team/app:1.0")
        #expect(error == .cancelled(image: "\(name)/team/app:1.0"))
        #expect(error?.category == .interrupted)
        #expect(try faults.requests().isEmpty)
    }

    @Test("references outside the grammar are refused before any request (input)", arguments: [
        ImageReference(registry: "127.0.0.1:1", repository: "Team/App", tag: "1.0", digest: nil),
        ImageReference(registry: "127.0.0.1:1", repository: "team//app", tag: "1.0", digest: nil),
        ImageReference(registry: "127.0.0.1:1", repository: "team/app", tag: "1.0/../x", digest: nil),
        ImageReference(registry: "127.0.0.1:1", repository: "team/app", tag: nil, digest: "sha512:" + String(repeating: "a", count: 128)),
        ImageReference(registry: "bad host", repository: "team/app", tag: "1", digest: nil),
    ])
    func invalidReferences(reference: ImageReference) throws {
        defer { faults.stop() }
        do {
            let digest = try RegistryClient().resolve(reference)
            Issue.record("expected an error, got \(digest)")
        } catch {
            guard case .invalidReference = error else {
                Issue.record("expected invalidReference, got \(error)")
                return
            }
            #expect(error.category == .input)
        }
    }
}
