import ChartSyncCore
import ChartSyncTestSupport
@testable import ChartSyncTransport
import Testing

@Suite("Registry values: challenges, JSON, errors")
struct RegistryValueTests {
    @Test("WWW-Authenticate challenges parse as registries send them", arguments: [
        (#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull""#,
         [AuthChallenge(scheme: "bearer", parameters: [
            "realm": "https://auth.docker.io/token", "service": "registry.docker.io",
            "scope": "repository:library/nginx:pull"])]),
        (#"Basic realm="Registry Realm""#, [AuthChallenge(scheme: "basic", parameters: ["realm": "Registry Realm"])]),
        (#"basic realm=x, Bearer realm="https://r/t", error="insufficient_scope""#, [
            AuthChallenge(scheme: "basic", parameters: ["realm": "x"]),
            AuthChallenge(scheme: "bearer", parameters: ["realm": "https://r/t", "error": "insufficient_scope"])]),
        (#"Bearer realm = "a\"b" ,  Service=svc"#,
         [AuthChallenge(scheme: "bearer", parameters: ["realm": "a\"b", "service": "svc"])]),
        ("Negotiate, Basic", [AuthChallenge(scheme: "negotiate", parameters: [:]), AuthChallenge(scheme: "basic", parameters: [:])]),
        ("Basic dXNlcjpwYXNz==", [AuthChallenge(scheme: "basic", parameters: ["dxnlcjpwyxnz": ""])]),
        ("", []),
    ])
    func challenges(header: String, expected: [AuthChallenge]) {
        #expect(AuthChallenge.parse([header]) == expected)
    }

    @Test("JSON values parse (RFC 8259), and what is not JSON does not")
    func json() throws {
        let text = #" {"token":"a\u00e9\ud83d\ude00\n","n":-1.5e2,"ok":true,"no":null,"list":[1,{"x":[]}]} "#
        let value = try #require(JSONValue.parse(Array(text.utf8)))
        #expect(value["token"]?.string == "aé😀\n")
        #expect(value["n"]?.number == -150)
        #expect(value["ok"] == .bool(true))
        #expect(value["no"] == .null)
        #expect(value["list"]?.array?.count == 2)
        for bad in ["", "{", #"{"a":}"#, "[1,]", #"{"a":1}x"#, "01x", #""\ud800""#, "nul", #""a"#,
                    String(repeating: "[", count: 100) + String(repeating: "]", count: 100)] {
            #expect(JSONValue.parse(Array(bad.utf8)) == nil, "\(bad)")
        }
    }

    @Test("docker.io is served at registry-1.docker.io; other names as written")
    func apiHosts() {
        #expect(RegistryClient.apiHost(for: "docker.io") == "registry-1.docker.io")
        #expect(RegistryClient.apiHost(for: "quay.io") == "quay.io")
        #expect(RegistryClient.apiHost(for: "127.0.0.1:5000") == "127.0.0.1:5000")
    }

    @Test("endpoints are looked up case-insensitively, others get the default")
    func endpoints() {
        let special = RegistryEndpoint(plainHTTP: true, credentials: .bearer(token: "tok-xyz-123"))
        let client = RegistryClient(endpoints: ["Registry.Example.com:5000": special])
        #expect(client.endpoint(for: "registry.example.com:5000") == special)
        #expect(client.endpoint(for: "quay.io") == RegistryEndpoint())
        #expect(RegistryEndpoint().plainHTTP == false)
    }

    @Test("error categories: unknown images and credentials are input, the network io, mismatches verification")
    func categories() {
        let input: [RegistryError] = [
            .invalidReference(image: "i", reason: "r"), .manifestUnknown(image: "i"),
            .repositoryUnknown(image: "i", registry: "r"), .authenticationFailed(registry: "r", reason: "x"),
            .credentialsRequired(registry: "r"), .accessDenied(image: "i", registry: "r"),
            .insecureTokenRealm(registry: "r", realm: "http://x"),
        ]
        let io: [RegistryError] = [
            .unreachable(registry: "r", url: "u", message: "m"), .unexpectedStatus(image: "i", url: "u", status: 400, message: nil),
            .malformedResponse(registry: "r", url: "u", reason: "x"), .transport(registry: "r", .httpStatus(url: "u", code: 500)),
        ]
        #expect(input.allSatisfy { $0.category == .input })
        #expect(io.allSatisfy { $0.category == .io })
        #expect(RegistryError.digestMismatch(image: "i", expected: "a", actual: "b").category == .verification)
        #expect(RegistryError.cancelled(image: "i").category == .interrupted)
    }

    @Test("a reference with neither tag nor digest is named with :latest in errors")
    func latestInErrors() throws {
        let port = try LoopbackPort.closed()
        let client = RegistryClient(endpoints: ["127.0.0.1:\(port)": RegistryEndpoint(plainHTTP: true)])
        do {
            _ = try client.resolve(ImageReference(parsing: "127.0.0.1:\(port)/app"))
            Issue.record("expected an error")
        } catch let error as RegistryError {
            guard case let .unreachable(registry, url, _) = error else {
                Issue.record("expected unreachable, got \(error)")
                return
            }
            #expect(registry == "127.0.0.1:\(port)")
            #expect(url.hasSuffix("/v2/app/manifests/latest"))
        }
    }
}
