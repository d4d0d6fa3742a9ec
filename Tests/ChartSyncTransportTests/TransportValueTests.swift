import ChartSyncCore
import ChartSyncTestSupport
import ChartSyncTransport
import Foundation
import Testing

@Suite("Redaction")
struct RedactionTests {
    @Test("userinfo and secret query values are removed", arguments: [
        ("https://user:pass@example.com/charts/index.yaml", "https://example.com/charts/index.yaml"),
        ("https://user@example.com:8443/x", "https://example.com:8443/x"),
        ("http://a:b@c@example.com?x=1", "http://example.com?x=1"),
        ("https://example.com/x.tgz?token=abc&v=2", "https://example.com/x.tgz?token=REDACTED&v=2"),
        ("https://s3.example/x?X-Amz-Signature=f00&X-Amz-Credential=AK%2F1&X-Amz-Date=1",
         "https://s3.example/x?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED&X-Amz-Date=1"),
        ("https://gitlab.example/api?private_token=zz#frag", "https://gitlab.example/api?private_token=REDACTED#frag"),
        ("https://example.com/a#frag?token=x", "https://example.com/a#frag?token=x"),
        ("file:///tmp/index.yaml", "file:///tmp/index.yaml"),
        ("user:pw@host/path", "host/path"),
        ("https://example.com/user@host/path", "https://example.com/user@host/path"),
        ("", ""),
    ])
    func redacts(input: String, expected: String) {
        #expect(RepositoryURL.redacted(input) == expected)
    }
}

@Suite("Credentials")
struct CredentialsTests {
    @Test("descriptions never reveal the secret")
    func descriptions() {
        let basic = Credentials.basic(username: "alice", password: "hunter2-xyz")
        let bearer = Credentials.bearer(token: "tok-abcdef")
        for (credential, secret) in [(basic, "hunter2-xyz"), (bearer, "tok-abcdef")] {
            var dumped = ""
            dump(credential, to: &dumped)
            for text in [credential.description, String(reflecting: credential), "\([credential])", dumped] {
                #expect(!text.contains(secret))
            }
        }
        #expect(basic.description.contains("alice"))
    }

    @Test("environment variables", arguments: [
        ([:], nil),
        (["CHARTSYNC_TOKEN": "t0k"], Credentials.bearer(token: "t0k")),
        (["CHARTSYNC_TOKEN": "t0k", "CHARTSYNC_USERNAME": "u", "CHARTSYNC_PASSWORD": "p"], .bearer(token: "t0k")),
        (["CHARTSYNC_USERNAME": "u", "CHARTSYNC_PASSWORD": "p"], .basic(username: "u", password: "p")),
        (["CHARTSYNC_USERNAME": "u"], .basic(username: "u", password: "")),
        (["CHARTSYNC_PASSWORD": "p"], nil),
        (["CHARTSYNC_TOKEN": "", "CHARTSYNC_USERNAME": ""], nil),
    ] as [([String: String], Credentials?)])
    func environment(variables: [String: String], expected: Credentials?) {
        #expect(CredentialsSource.load(environment: variables) == expected)
    }

    @Test("custom variable names")
    func customVariables() {
        let credentials = CredentialsSource.load(
            environment: ["REPO_USER": "x", "REPO_PASS": "y"], usernameVariable: "REPO_USER",
            passwordVariable: "REPO_PASS", tokenVariable: "REPO_TOKEN")
        #expect(credentials == .basic(username: "x", password: "y"))
    }

    @Test("credentials file contents", arguments: [
        ("username: alice\npassword: s3cr:et \n", Credentials.basic(username: "alice", password: "s3cr:et")),
        ("# comment\n\n  token:  abc.def  \n", .bearer(token: "abc.def")),
        ("username: bob\r\n", .basic(username: "bob", password: "")),
        ("# nothing\n\n", nil),
    ] as [(String, Credentials?)])
    func fileContents(text: String, expected: Credentials?) throws {
        #expect(try CredentialsSource.parse(text, path: "creds") == expected)
    }

    @Test("malformed credentials files are refused", arguments: [
        "username alice", "user: alice", "token: a\nusername: b", "username: a\nusername: b",
        "password: only", "token:", "username:",
    ])
    func malformed(text: String) {
        #expect(throws: CredentialsError.self) { try CredentialsSource.parse(text, path: "creds") }
    }

    @Test("a credentials file is read when private and refused when others may read it")
    func filePermissions() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("creds", Array("username: alice\npassword: pw-123456\n".utf8))
        chmod(path, 0o600)
        #expect(try CredentialsSource.load(file: path) == .basic(username: "alice", password: "pw-123456"))
        chmod(path, 0o640)
        #expect(try CredentialsSource.load(file: path) == .basic(username: "alice", password: "pw-123456"))
        chmod(path, 0o644)
        #expect(throws: CredentialsError.insecurePermissions(path: path, mode: 0o644)) {
            try CredentialsSource.load(file: path)
        }
        do {
            _ = try CredentialsSource.load(file: path)
        } catch {
            #expect(!error.description.contains("pw-123456"))
        }
        #expect(throws: CredentialsError.self) { try CredentialsSource.load(file: dir.file("missing")) }
    }
}

@Suite("RetryPolicy")
struct RetryPolicyTests {
    @Test("delays double, are capped, and honour Retry-After up to maxDelay")
    func delays() {
        let policy = RetryPolicy(maxAttempts: 6, baseDelay: 0.5, maxDelay: 3, jitter: 0)
        #expect(policy.delay(afterAttempt: 1, random: 0.5) == 0.5)
        #expect(policy.delay(afterAttempt: 2, random: 0.5) == 1)
        #expect(policy.delay(afterAttempt: 3, random: 0.5) == 2)
        #expect(policy.delay(afterAttempt: 4, random: 0.5) == 3)
        #expect(policy.delay(afterAttempt: 100, random: 0.5) == 3)
        #expect(policy.delay(afterAttempt: 1, retryAfter: 2, random: 0.5) == 2)
        #expect(policy.delay(afterAttempt: 1, retryAfter: 60, random: 0.5) == 3)
        #expect(policy.delay(afterAttempt: 3, retryAfter: 1, random: 0.5) == 2)
    }

    @Test("jitter stays within its fraction")
    func jitter() {
        let policy = RetryPolicy(baseDelay: 1, maxDelay: 30, jitter: 0.2)
        #expect(policy.delay(afterAttempt: 1, random: 0) == 0.8)
        #expect(abs(policy.delay(afterAttempt: 1, random: 1) - 1.2) < 1e-9)
        #expect(RetryPolicy(maxAttempts: 0).maxAttempts == 1)
    }
}

@Suite("TransportError")
struct TransportErrorTests {
    @Test("messages say what failed and where")
    func messages() {
        #expect(TransportError.httpStatus(url: "https://x/i.yaml", code: 404).description
            == "https://x/i.yaml answered HTTP 404 Not Found")
        #expect(TransportError.tooManyRedirects(url: "https://x/", limit: 10).description.contains("more than 10"))
        #expect(TransportError.sizeLimitExceeded(url: "https://x/", limit: 5).description.contains("5 bytes"))
    }
}
