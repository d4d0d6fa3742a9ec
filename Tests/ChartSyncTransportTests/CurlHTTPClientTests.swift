import ChartSyncCore
import ChartSyncTestSupport
import ChartSyncTransport
import Foundation
import Testing

/// The libcurl client against real servers on 127.0.0.1: nginx for static files, TLS and basic
/// auth; the fault server for failures, redirects and header checks.
@Suite("CurlHTTPClient against real servers")
struct CurlHTTPClientTests {
    // MARK: Plain fetching

    @Test("http fetch streams the body to disk with the right SHA-256 and size")
    func plainHTTP() throws {
        let dir = try TemporaryDirectory()
        let body = testBytes(count: 3 * 1024 * 1024 + 17)
        let source = try dir.write("www/charts/big-1.0.0.tgz", body)
        let server = try StaticServer(root: dir.file("www"))
        defer { server.stop() }
        let recorder = Recorder()
        let destination = dir.file("out.tgz")

        let result = try makeClient(recorder: recorder)
            .fetch(TransferRequest(url: server.url("charts/big-1.0.0.tgz")), to: destination)

        #expect(result.bytes == Int64(body.count))
        #expect(result.sha256.hex == (try sha256sum(file: source)))
        #expect(result.sha256.hex == (try sha256sum(file: destination)))
        #expect(result.status == 200)
        #expect(result.attempts == 1)
        #expect(result.url == server.url("charts/big-1.0.0.tgz"))
        #expect(recorder.events.isEmpty)
    }

    @Test("an empty body gives the SHA-256 of nothing")
    func emptyBody() throws {
        let dir = try TemporaryDirectory()
        try dir.write("www/empty", [])
        let server = try StaticServer(root: dir.file("www"))
        defer { server.stop() }
        let result = try CurlHTTPClient().fetch(TransferRequest(url: server.url("empty")), to: dir.file("out"))
        #expect(result.bytes == 0)
        #expect(result.sha256.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(fileExists(dir.file("out")))
    }

    @Test("file:// URLs are fetched by libcurl too")
    func fileURL() throws {
        let dir = try TemporaryDirectory()
        let body = testBytes(count: 200_000, seed: 7)
        let source = try dir.write("src/index.yaml", body)
        let result = try CurlHTTPClient().fetch(TransferRequest(url: "file://" + source), to: dir.file("copy"))
        #expect(result.bytes == Int64(body.count))
        #expect(result.sha256.hex == (try sha256sum(file: source)))
        #expect(result.status == 0)
        #expect(contents(dir.file("copy")) == body)
    }

    @Test("a missing file:// file fails at once, without retries, and leaves no destination")
    func missingFile() throws {
        let dir = try TemporaryDirectory()
        let recorder = Recorder()
        let error = fetchError(makeClient(recorder: recorder), TransferRequest(url: "file://\(dir.path)/nope"),
                               to: dir.file("out"))
        guard case let .network(url, code, _) = error else {
            Issue.record("expected a network error, got \(String(describing: error))")
            return
        }
        #expect(url == "file://\(dir.path)/nope")
        #expect(code == 37)
        #expect(recorder.retries.isEmpty)
        #expect(!fileExists(dir.file("out")))
    }

    @Test("several threads may fetch with one client at once")
    func concurrentFetches() throws {
        let dir = try TemporaryDirectory()
        var expected: [String] = []
        for index in 0..<8 {
            let source = try dir.write("www/file\(index)", testBytes(count: 300_000 + index, seed: UInt64(index + 1)))
            expected.append(try sha256sum(file: source))
        }
        let server = try StaticServer(root: dir.file("www"))
        defer { server.stop() }
        let client = CurlHTTPClient()
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            let outcome = Result { () throws(TransportError) -> TransferResult in
                try client.fetch(TransferRequest(url: server.url("file\(index)")), to: dir.file("out\(index)"))
            }
            results.set(index, outcome)
        }
        for index in 0..<8 {
            let result = try #require(try results.get(index)?.get())
            #expect(result.sha256.hex == expected[index])
        }
    }

    // MARK: TLS

    @Test("https with the test CA succeeds")
    func httpsWithCA() throws {
        let dir = try TemporaryDirectory()
        let body = testBytes(count: 100_000)
        try dir.write("www/index.yaml", body)
        let server = try StaticServer(root: dir.file("www"), options: .init(tls: true))
        defer { server.stop() }
        let client = CurlHTTPClient(options: TransportOptions(caFile: server.caFile))
        let result = try client.fetch(TransferRequest(url: server.url("index.yaml")), to: dir.file("out"))
        #expect(result.bytes == 100_000)
        #expect(contents(dir.file("out")) == body)
        // The certificate names localhost as well.
        _ = try client.fetch(TransferRequest(url: server.url("index.yaml", host: "localhost")), to: dir.file("out2"))
    }

    @Test("https without the CA fails with a TLS error and is not retried")
    func httpsWithoutCA() throws {
        let dir = try TemporaryDirectory()
        try dir.write("www/index.yaml", Array("x".utf8))
        let server = try StaticServer(root: dir.file("www"), options: .init(tls: true))
        defer { server.stop() }
        let recorder = Recorder()
        let error = fetchError(makeClient(recorder: recorder), TransferRequest(url: server.url("index.yaml")),
                               to: dir.file("out"))
        guard case let .tls(url, code, message) = error else {
            Issue.record("expected a TLS error, got \(String(describing: error))")
            return
        }
        #expect(url == server.url("index.yaml"))
        #expect(code == 60)
        #expect(!message.isEmpty)
        #expect(recorder.retries.isEmpty)
        #expect(!fileExists(dir.file("out")))
        #expect(server.accessLog().isEmpty)
    }

    @Test("insecureSkipTLSVerify succeeds without the CA and warns")
    func insecureSkipVerify() throws {
        let dir = try TemporaryDirectory()
        try dir.write("www/index.yaml", Array("apiVersion: v1\n".utf8))
        let server = try StaticServer(root: dir.file("www"), options: .init(tls: true))
        defer { server.stop() }
        let recorder = Recorder()
        let result = try makeClient(TransportOptions(insecureSkipTLSVerify: true), recorder: recorder)
            .fetch(TransferRequest(url: server.url("index.yaml")), to: dir.file("out"))
        #expect(result.bytes == 15)
        #expect(recorder.events == [.insecureTLS(url: server.url("index.yaml"))])
    }

    @Test("mutual TLS: nginx refuses a client without a certificate and serves one with it")
    func clientCertificate() throws {
        let dir = try TemporaryDirectory()
        try dir.write("www/index.yaml", Array("entries: {}\n".utf8))
        let server = try StaticServer(root: dir.file("www"), options: .init(requireClientCertificate: true))
        defer { server.stop() }
        let pki = try #require(server.pki)
        let url = server.url("index.yaml")

        let error = fetchError(url, to: dir.file("out"), options: TransportOptions(caFile: pki.caFile))
        #expect(error == .httpStatus(url: url, code: 400))

        let client = CurlHTTPClient(options: TransportOptions(
            caFile: pki.caFile, certFile: pki.clientCertFile, keyFile: pki.clientKeyFile))
        let result = try client.fetch(TransferRequest(url: url), to: dir.file("out"))
        #expect(text(dir.file("out")) == "entries: {}\n")
        #expect(result.status == 200)
    }

    // MARK: Authentication

    @Test("basic auth: 401 without credentials (not retried), success with them, also from the URL")
    func basicAuth() throws {
        let dir = try TemporaryDirectory()
        try dir.write("www/index.yaml", Array("entries: {}\n".utf8))
        let server = try StaticServer(
            root: dir.file("www"),
            options: .init(basicAuth: .init(username: "alice", password: "s3cret-Pa55")))
        defer { server.stop() }
        let recorder = Recorder()
        let client = makeClient(recorder: recorder)
        let url = server.url("index.yaml")

        #expect(fetchError(client, TransferRequest(url: url), to: dir.file("out"))
            == .httpStatus(url: url, code: 401))
        #expect(recorder.retries.isEmpty)
        #expect(server.accessLog(atLeast: 1).count == 1)

        let wrong = TransferRequest(url: url, credentials: .basic(username: "alice", password: "wrong-password"))
        #expect(fetchError(client, wrong, to: dir.file("out")) == .httpStatus(url: url, code: 401))

        let right = TransferRequest(url: url, credentials: .basic(username: "alice", password: "s3cret-Pa55"))
        let result = try client.fetch(right, to: dir.file("out"))
        #expect(result.status == 200)
        #expect(text(dir.file("out")) == "entries: {}\n")

        let inURL = "http://alice:s3cret-Pa55@127.0.0.1:\(server.port)/index.yaml"
        let fromURL = try client.fetch(TransferRequest(url: inURL), to: dir.file("out"))
        #expect(fromURL.url == url)
        #expect(server.accessLog(atLeast: 4).last?.contains(" 200 alice ") == true)
    }

    @Test("a bearer token is sent as Authorization: Bearer, with the chartsync user agent")
    func bearerToken() throws {
        let dir = try TemporaryDirectory()
        let faults = try FaultServer()
        defer { faults.stop() }
        try faults.plan("/index.yaml", .echoAuthorization)
        let request = TransferRequest(url: faults.url("/index.yaml"), credentials: .bearer(token: "tok-123456"))
        _ = try CurlHTTPClient().fetch(request, to: dir.file("out"))
        #expect(text(dir.file("out")) == "Bearer tok-123456")
        let logged = try faults.requests()
        #expect(logged.count == 1)
        #expect(logged.first?.userAgent == TransportOptions.defaultUserAgent)
    }

    // MARK: Redirects

    @Test("a redirect to another host drops the credentials", arguments: [
        Credentials.basic(username: "bob", password: "hunter2-long"), .bearer(token: "tok-abcdef"),
    ])
    func crossHostRedirectDropsCredentials(credentials: Credentials) throws {
        let dir = try TemporaryDirectory()
        let faults = try FaultServer()
        defer { faults.stop() }
        try faults.plan("/a", .redirect(to: faults.url("/b", host: "localhost")))
        try faults.plan("/b", .echoAuthorization)
        let recorder = Recorder()
        let result = try makeClient(recorder: recorder)
            .fetch(TransferRequest(url: faults.url("/a"), credentials: credentials), to: dir.file("out"))

        #expect(result.url == faults.url("/b", host: "localhost"))
        #expect(text(dir.file("out")) == "")
        let logged = try faults.requests()
        #expect(logged.map(\.path) == ["/a", "/b"])
        #expect(logged[0].authorization != nil)
        #expect(logged[1].host == "localhost:\(faults.port)")
        #expect(logged[1].authorization == nil)
        #expect(recorder.events == [.redirected(from: faults.url("/a"), to: faults.url("/b", host: "localhost"))])
    }

    @Test("allowCredentialsOnRedirect keeps the credentials on another host")
    func crossHostRedirectKeepsCredentialsWhenAllowed() throws {
        let dir = try TemporaryDirectory()
        let faults = try FaultServer()
        defer { faults.stop() }
        try faults.plan("/a", .redirect(to: faults.url("/b", host: "localhost"), status: 301))
        try faults.plan("/b", .echoAuthorization)
        let options = TransportOptions(allowCredentialsOnRedirect: true)
        _ = try CurlHTTPClient(options: options).fetch(
            TransferRequest(url: faults.url("/a"), credentials: .bearer(token: "tok-abcdef")), to: dir.file("out"))
        #expect(text(dir.file("out")) == "Bearer tok-abcdef")
        #expect(try faults.requests().map(\.authorization) == ["Bearer tok-abcdef", "Bearer tok-abcdef"])
    }

    @Test("a relative redirect on the same origin keeps the credentials")
    func sameOriginRedirectKeepsCredentials() throws {
        let dir = try TemporaryDirectory()
        let faults = try FaultServer()
        defer { faults.stop() }
        try faults.plan("/a", .redirect(to: "/b?x=1", status: 307))
        try faults.plan("/b", .echoAuthorization)
        let result = try CurlHTTPClient().fetch(
            TransferRequest(url: faults.url("/a"), credentials: .basic(username: "u", password: "pw-123456")),
            to: dir.file("out"))
        #expect(text(dir.file("out")).hasPrefix("Basic "))
        #expect(result.url == faults.url("/b?x=1"))
    }

    @Test("a redirect from https to http is refused before the http server is contacted")
    func httpsToHTTPRedirectRefused() throws {
        let dir = try TemporaryDirectory()
        try dir.write("www/placeholder", [])
        let faults = try FaultServer()
        defer { faults.stop() }
        let target = faults.url("/chart.tgz")
        let server = try StaticServer(root: dir.file("www"), options: .init(
            tls: true, snippets: ["location = /chart.tgz { return 302 \(target); }"]))
        defer { server.stop() }
        let error = fetchError(server.url("chart.tgz"), to: dir.file("out"),
                               options: TransportOptions(caFile: server.caFile))
        #expect(error == .insecureRedirect(from: server.url("chart.tgz"), to: target))
        #expect(try faults.requests().isEmpty)
        #expect(!fileExists(dir.file("out")))
    }

    @Test("a redirect to file:// is refused")
    func redirectToFileRefused() throws {
        let dir = try TemporaryDirectory()
        let faults = try FaultServer()
        defer { faults.stop() }
        try faults.plan("/a", .redirect(to: "file:///etc/passwd"))
        let error = fetchError(faults.url("/a"), to: dir.file("out"))
        #expect(error == .insecureRedirect(from: faults.url("/a"), to: "file:///etc/passwd"))
    }

    @Test("a redirect loop stops with tooManyRedirects after 10 redirects")
    func redirectLoop() throws {
        let dir = try TemporaryDirectory()
        let faults = try FaultServer()
        defer { faults.stop() }
        try faults.plan("/loop", .redirect(to: faults.url("/loop")))
        let recorder = Recorder()
        let error = fetchError(makeClient(recorder: recorder), TransferRequest(url: faults.url("/loop")),
                               to: dir.file("out"))
        #expect(error == .tooManyRedirects(url: faults.url("/loop"), limit: 10))
        #expect(try faults.requests().count == 11)
        #expect(recorder.events.count == 10)
        #expect(recorder.retries.isEmpty)
    }

    @Test("nginx redirects are followed: http to https, and a cross-host 301")
    func nginxRedirects() throws {
        let dir = try TemporaryDirectory()
        let body = testBytes(count: 5000)
        try dir.write("www/new.tgz", body)
        let server = try StaticServer(root: dir.file("www"), options: .init(
            tls: true, snippets: ["location = /old.tgz { return 301 https://localhost:{{PORT}}/new.tgz; }"]))
        defer { server.stop() }
        let result = try CurlHTTPClient(options: TransportOptions(caFile: server.caFile))
            .fetch(TransferRequest(url: server.url("old.tgz")), to: dir.file("out"))
        #expect(result.url == server.url("new.tgz", host: "localhost"))
        #expect(contents(dir.file("out")) == body)

        let faults = try FaultServer()
        defer { faults.stop() }
        try faults.plan("/up", .redirect(to: server.url("new.tgz")))
        let upgraded = try CurlHTTPClient(options: TransportOptions(caFile: server.caFile))
            .fetch(TransferRequest(url: faults.url("/up")), to: dir.file("out"))
        #expect(upgraded.url == server.url("new.tgz"))
    }

    // MARK: Retries

    @Test("500 then 200 succeeds on the second attempt")
    func retryAfterServerError() throws {
        let dir = try TemporaryDirectory()
        let faults = try FaultServer()
        defer { faults.stop() }
        let body = testBytes(count: 10_000)
        try faults.plan("/index.yaml", .status(500, body: Array("oops".utf8)), .ok(body))
        let recorder = Recorder()
        let result = try makeClient(recorder: recorder)
            .fetch(TransferRequest(url: faults.url("/index.yaml")), to: dir.file("out"))
        #expect(result.attempts == 2)
        #expect(contents(dir.file("out")) == body)
        guard case let .retrying(url, attempt, _, reason) = recorder.events.first else {
            Issue.record("expected a retry event, got \(recorder.events)")
            return
        }
        #expect(url == faults.url("/index.yaml"))
        #expect(attempt == 2)
        #expect(reason.contains("500"))
    }

    @Test("429 and 408 are retried too")
    func retryTooManyRequests() throws {
        let dir = try TemporaryDirectory()
        let faults = try FaultServer()
        defer { faults.stop() }
        try faults.plan("/x", .status(429), .status(408), .ok(Array("fine".utf8)))
        let recorder = Recorder()
        let result = try makeNonSleepingClient(recorder: recorder)
            .fetch(TransferRequest(url: faults.url("/x")), to: dir.file("out"))
        #expect(result.attempts == 3)
        #expect(text(dir.file("out")) == "fine")
    }

    @Test("503 with Retry-After waits at least that long")
    func retryAfterHeader() throws {
        let dir = try TemporaryDirectory()
        let faults = try FaultServer()
        defer { faults.stop() }
        try faults.plan("/x", .status(503, headers: ["Retry-After": "1"]), .ok(Array("ok".utf8)))
        let recorder = Recorder()
        let started = Date()
        let result = try makeClient(recorder: recorder).fetch(TransferRequest(url: faults.url("/x")), to: dir.file("out"))
        let elapsed = Date().timeIntervalSince(started)
        #expect(result.attempts == 2)
        guard case let .retrying(_, _, delay, reason) = recorder.events.first else {
            Issue.record("expected a retry event, got \(recorder.events)")
            return
        }
        #expect(delay >= 1)
        #expect(reason.contains("503"))
        #expect(elapsed >= 0.9)
    }

    @Test("Retry-After as an HTTP date is honoured, capped at maxDelay")
    func retryAfterDate() throws {
        let dir = try TemporaryDirectory()
        let faults = try FaultServer()
        defer { faults.stop() }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let later = formatter.string(from: Date().addingTimeInterval(3600))
        try faults.plan("/x", .status(503, headers: ["Retry-After": later]), .ok(Array("ok".utf8)))
        let recorder = Recorder()
        _ = try makeNonSleepingClient(recorder: recorder).fetch(TransferRequest(url: faults.url("/x")), to: dir.file("out"))
        #expect(recorder.sleeps == [5])  // quickOptions caps delays at 5 s
    }

    @Test("404 is final: no retries, no destination left")
    func notFoundNotRetried() throws {
        let dir = try TemporaryDirectory()
        let faults = try FaultServer()
        defer { faults.stop() }
        let recorder = Recorder()
        let error = fetchError(makeClient(recorder: recorder), TransferRequest(url: faults.url("/missing.tgz")),
                               to: dir.file("out"))
        #expect(error == .httpStatus(url: faults.url("/missing.tgz"), code: 404))
        #expect(error?.description.contains("404") == true)
        #expect(recorder.events.isEmpty)
        #expect(try faults.requests().count == 1)
        #expect(!fileExists(dir.file("out")))
    }

    @Test("a connection reset mid-body is retried and the body restarts cleanly")
    func resetMidBody() throws {
        let dir = try TemporaryDirectory()
        let faults = try FaultServer()
        defer { faults.stop() }
        let body = testBytes(count: 400_000, seed: 3)
        try faults.plan("/chart.tgz", .resetMidBody(body: body, after: 150_000), .ok(body))
        let recorder = Recorder()
        let result = try makeClient(recorder: recorder)
            .fetch(TransferRequest(url: faults.url("/chart.tgz")), to: dir.file("out"))
        #expect(result.attempts == 2)
        #expect(result.bytes == Int64(body.count))
        #expect(result.sha256.hex == (try sha256sum(file: dir.file("out"))))
        #expect(contents(dir.file("out")) == body)
        #expect(recorder.retries.count == 1)
    }

    @Test("a reset of a body of several MiB restarts file and hash (hashed on their own thread)")
    func resetMidLargeBody() throws {
        let dir = try TemporaryDirectory()
        let faults = try FaultServer()
        defer { faults.stop() }
        let body = testBytes(count: 6 * 1024 * 1024 + 5, seed: 4)
        let other = testBytes(count: 6 * 1024 * 1024 + 5, seed: 5)
        try faults.plan("/chart.tgz", .resetMidBody(body: other, after: 5 * 1024 * 1024), .ok(body))
        let result = try makeClient(recorder: Recorder())
            .fetch(TransferRequest(url: faults.url("/chart.tgz")), to: dir.file("out"))
        #expect(result.attempts == 2)
        #expect(result.bytes == Int64(body.count))
        #expect(result.sha256.hex == (try sha256sum(file: dir.file("out"))))
        #expect(contents(dir.file("out")) == body)
    }

    @Test("fetches from one host reuse the connection, and a reused connection carries no credentials")
    func connectionReuse() throws {
        let dir = try TemporaryDirectory()
        let faults = try FaultServer()
        defer { faults.stop() }
        try faults.plan("/a", .keepAlive(body: Array("a".utf8)), .keepAlive(body: Array("a".utf8)))
        try faults.plan("/b", .keepAlive(body: Array("b".utf8)))
        let client = makeClient(recorder: Recorder())
        _ = try client.fetch(TransferRequest(url: faults.url("/a"), credentials: .bearer(token: "t0ken")), to: dir.file("a"))
        _ = try client.fetch(TransferRequest(url: faults.url("/b")), to: dir.file("b"))
        _ = try client.send(TransferRequest(url: faults.url("/a"), credentials: .basic(username: "u", password: "p")))
        let requests = try faults.requests()
        #expect(requests.map(\.path) == ["/a", "/b", "/a"])
        #expect(requests.map(\.authorization) == ["Bearer t0ken", nil, "Basic dTpw"])
        #expect(requests[0].clientPort != nil && Set(requests.map(\.clientPort)).count == 1, "\(requests)")
    }

    @Test("a truncated body fails after all attempts, removing the destination")
    func truncatedBody() throws {
        let dir = try TemporaryDirectory()
        let faults = try FaultServer()
        defer { faults.stop() }
        try faults.plan("/chart.tgz", .truncated(body: testBytes(count: 100_000), after: 40_000))
        let recorder = Recorder()
        let error = fetchError(makeClient(quickOptions(maxAttempts: 3), recorder: recorder),
                               TransferRequest(url: faults.url("/chart.tgz")), to: dir.file("out"))
        guard case let .network(url, code, _) = error else {
            Issue.record("expected a network error, got \(String(describing: error))")
            return
        }
        #expect(url == faults.url("/chart.tgz"))
        #expect(code == 18)
        #expect(try faults.requests().count == 3)
        #expect(recorder.retries.count == 2)
        #expect(!fileExists(dir.file("out")))
    }

    @Test("a stalled body is aborted by the low-speed limit")
    func stalledBody() throws {
        let dir = try TemporaryDirectory()
        let faults = try FaultServer()
        defer { faults.stop() }
        try faults.plan("/index.yaml", .stall(body: testBytes(count: 100_000), after: 1000, seconds: 30))
        var options = quickOptions(maxAttempts: 1)
        options.lowSpeedTime = 2
        let started = Date()
        let error = fetchError(faults.url("/index.yaml"), to: dir.file("out"), options: options)
        let elapsed = Date().timeIntervalSince(started)
        guard case let .network(_, code, _) = error else {
            Issue.record("expected a network error, got \(String(describing: error))")
            return
        }
        #expect(code == 28)
        #expect(elapsed < 15)
        #expect(!fileExists(dir.file("out")))
    }

    @Test("a slow but steady body is not aborted")
    func slowBody() throws {
        let dir = try TemporaryDirectory()
        let faults = try FaultServer()
        defer { faults.stop() }
        let body = testBytes(count: 3000)
        try faults.plan("/slow", .slow(body: body, chunk: 500, interval: 0.1))
        let result = try CurlHTTPClient(options: quickOptions())
            .fetch(TransferRequest(url: faults.url("/slow")), to: dir.file("out"))
        #expect(contents(dir.file("out")) == body)
        #expect(result.attempts == 1)
    }

    @Test("connection refused fails fast, names the URL, and is not retried")
    func connectionRefused() throws {
        let dir = try TemporaryDirectory()
        let port = try LoopbackPort.closed()
        let url = "http://127.0.0.1:\(port)/index.yaml"
        let recorder = Recorder()
        let started = Date()
        let error = fetchError(makeClient(TransportOptions(), recorder: recorder), TransferRequest(url: url),
                               to: dir.file("out"))
        #expect(Date().timeIntervalSince(started) < 5)
        guard case let .network(errorURL, code, _) = error else {
            Issue.record("expected a network error, got \(String(describing: error))")
            return
        }
        #expect(errorURL == url)
        #expect(code == 7)
        #expect(error?.description.contains(url) == true)
        #expect(recorder.events.isEmpty)
        #expect(!fileExists(dir.file("out")))
    }

    // MARK: Limits and destinations

    @Test("a body over maxBytes fails with sizeLimitExceeded (known and unknown length)")
    func sizeCap() throws {
        let dir = try TemporaryDirectory()
        let source = try dir.write("www/index.yaml", testBytes(count: 50_000))
        let server = try StaticServer(root: dir.file("www"))
        defer { server.stop() }
        let client = CurlHTTPClient(options: quickOptions())
        let url = server.url("index.yaml")
        #expect(fetchError(client, TransferRequest(url: url, maxBytes: 10_000), to: dir.file("out"))
            == .sizeLimitExceeded(url: url, limit: 10_000))
        #expect(!fileExists(dir.file("out")))
        // file:// gives libcurl no length up front: the write callback stops it.
        let fileURL = "file://" + source
        #expect(fetchError(client, TransferRequest(url: fileURL, maxBytes: 10_000), to: dir.file("out"))
            == .sizeLimitExceeded(url: fileURL, limit: 10_000))
        #expect(!fileExists(dir.file("out")))
        // Exactly the limit is fine.
        let exact = try client.fetch(TransferRequest(url: url, maxBytes: 50_000), to: dir.file("out"))
        #expect(exact.bytes == 50_000)
    }

    @Test("a destination that cannot be created is an io error")
    func unwritableDestination() throws {
        let dir = try TemporaryDirectory()
        let faults = try FaultServer()
        defer { faults.stop() }
        let path = dir.file("missing-dir/out")
        let error = fetchError(faults.url("/x"), to: path)
        guard case let .io(errorPath, message) = error else {
            Issue.record("expected an io error, got \(String(describing: error))")
            return
        }
        #expect(errorPath == path)
        #expect(message.contains("No such file"))
        #expect(try faults.requests().isEmpty)
    }

    @Test("the destination is never written through a symlink")
    func symlinkDestination() throws {
        let dir = try TemporaryDirectory()
        let victim = try dir.write("victim", Array("keep".utf8))
        try FileManager.default.createSymbolicLink(atPath: dir.file("link"), withDestinationPath: victim)
        let faults = try FaultServer()
        defer { faults.stop() }
        try faults.plan("/x", .ok(Array("evil".utf8)))
        guard case .io = fetchError(faults.url("/x"), to: dir.file("link")) else {
            Issue.record("expected an io error")
            return
        }
        #expect(text(victim) == "keep")
    }

    // MARK: URLs and secrets

    @Test("unsupported schemes and invalid URLs are refused without any I/O", arguments: [
        ("oci://registry.example/charts/x", TransportError.unsupportedScheme(url: "oci://registry.example/charts/x")),
        ("ftp://u:pw-secret@example.com/x", .unsupportedScheme(url: "ftp://example.com/x")),
        ("charts/x-1.0.0.tgz", .invalidURL("charts/x-1.0.0.tgz")),
        ("http://", .invalidURL("http://")),
        ("http://exa mple.com/x", .invalidURL("http://exa mple.com/x")),
    ])
    func refusedURLs(url: String, expected: TransportError) throws {
        let dir = try TemporaryDirectory()
        #expect(fetchError(url, to: dir.file("out")) == expected)
        #expect(!fileExists(dir.file("out")))
    }

    @Test("credentials never appear in errors, events or results")
    func secretsNeverShown() throws {
        let dir = try TemporaryDirectory()
        let faults = try FaultServer()
        defer { faults.stop() }
        let password = "pa55-W0rd-xyz"
        let token = "tok-SECRET-987"
        let refused = try LoopbackPort.closed()
        try faults.plan("/deny", .status(403))
        try faults.plan("/hop", .redirect(to: "http://mallory:\(password)@localhost:\(faults.port)/deny"))
        try faults.plan("/flaky", .status(500))
        let recorder = Recorder()
        let client = makeClient(quickOptions(maxAttempts: 2), recorder: recorder)
        var texts: [String] = []
        let requests = [
            TransferRequest(url: "http://alice:\(password)@127.0.0.1:\(refused)/x"),
            TransferRequest(url: "http://alice:\(password)@127.0.0.1:\(faults.port)/deny"),
            TransferRequest(url: faults.url("/deny"), credentials: .basic(username: "alice", password: password)),
            TransferRequest(url: faults.url("/deny"), credentials: .bearer(token: token)),
            TransferRequest(url: faults.url("/hop"), credentials: .bearer(token: token)),
            TransferRequest(url: faults.url("/flaky?token=\(token)"), credentials: .bearer(token: token)),
            TransferRequest(url: "ftp://alice:\(password)@127.0.0.1/x"),
            TransferRequest(url: "http://alice:\(password)@/x"),
        ]
        for request in requests {
            if let error = fetchError(client, request, to: dir.file("out")) {
                texts += [error.description, String(describing: error), String(reflecting: error), error.url ?? ""]
            }
        }
        texts += recorder.events.map { "\($0) \(String(reflecting: $0))" }
        let credentials: [Credentials] = [.basic(username: "alice", password: password), .bearer(token: token)]
        for credential in credentials {
            var dumped = ""
            dump(credential, to: &dumped)
            texts += [credential.description, String(reflecting: credential), "\(credential)", dumped]
        }
        #expect(texts.count > 20)
        for text in texts {
            #expect(!text.contains(password))
            #expect(!text.contains(token))
        }
        #expect(texts.contains { $0.contains("alice") })  // the user name may be named
    }
}

/// Results from several threads.
private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int: Result<TransferResult, TransportError>] = [:]
    func set(_ index: Int, _ value: Result<TransferResult, TransportError>) { lock.withLock { values[index] = value } }
    func get(_ index: Int) -> Result<TransferResult, TransportError>? { lock.withLock { values[index] } }
}
