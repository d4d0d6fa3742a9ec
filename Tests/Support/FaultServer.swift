import Foundation

/// One scripted response of a `FaultServer`.
public enum FaultResponse: Sendable {
    /// A complete response with this status, headers and body.
    case status(Int, body: [UInt8] = [], headers: [String: String] = [:])
    /// A redirect (302 unless given) to `location`.
    case redirect(to: String, status: Int = 302)
    /// Status 200 and Content-Length of `body`, but only `after` bytes, then a TCP reset.
    case resetMidBody(body: [UInt8], after: Int)
    /// Status 200 and Content-Length of `body`, but only `after` bytes, then a normal close.
    case truncated(body: [UInt8], after: Int)
    /// Status 200, `after` bytes of `body`, then silence for `seconds`, then a close.
    case stall(body: [UInt8], after: Int, seconds: Double)
    /// Status 200 and `body`, `chunk` bytes at a time, `interval` seconds apart.
    case slow(body: [UInt8], chunk: Int, interval: Double)
    /// Status 200 with the Authorization header received as the body (empty when none).
    case echoAuthorization
    /// The request sent on to the `proxy(to:)` server (after `delay` seconds), its answer relayed.
    case forward(delay: Double = 0)
    /// The request sent on to the proxied server with only `after` bytes of its body, then both
    /// connections reset (a network failure in the middle of an upload).
    case cut(after: Int)
    /// `after` bytes of the request body read, then a TCP reset without an answer.
    case resetRequest(after: Int)
    /// Status 200 with `body`, the connection left open for the next request (keep-alive).
    case keepAlive(body: [UInt8])

    /// Status 200 with `body`.
    public static func ok(_ body: [UInt8], headers: [String: String] = [:]) -> FaultResponse {
        .status(200, body: body, headers: headers)
    }

    var json: [String: Any] {
        func b64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
        switch self {
        case let .status(code, body, headers):
            return ["kind": "respond", "status": code, "body": b64(body), "headers": headers]
        case let .redirect(location, status):
            return ["kind": "respond", "status": status, "body": "", "headers": ["Location": location]]
        case let .resetMidBody(body, after):
            return ["kind": "reset", "body": b64(body), "after": after]
        case let .truncated(body, after):
            return ["kind": "truncate", "body": b64(body), "after": after]
        case let .stall(body, after, seconds):
            return ["kind": "stall", "body": b64(body), "after": after, "seconds": seconds]
        case let .slow(body, chunk, interval):
            return ["kind": "slow", "body": b64(body), "chunk": chunk, "interval": interval]
        case .echoAuthorization:
            return ["kind": "echo_auth"]
        case .forward(let delay):
            return ["kind": "forward", "delay": delay]
        case .cut(let after):
            return ["kind": "cut", "after": after]
        case .resetRequest(let after):
            return ["kind": "reset_request", "after": after]
        case let .keepAlive(body):
            return ["kind": "respond", "status": 200, "body": b64(body), "keep": true]
        }
    }
}

/// A request a `FaultServer` received.
public struct RecordedRequest: Sendable, Decodable, Equatable {
    /// The method, e.g. GET.
    public let method: String
    /// The request target: path and query.
    public let path: String
    /// The Host header, e.g. `localhost:23456`.
    public let host: String?
    /// The Authorization header, if any.
    public let authorization: String?
    /// The User-Agent header, if any.
    public let userAgent: String?
    /// The Accept header, if any.
    public let accept: String?
    /// The Content-Range header, if any.
    public var contentRange: String? = nil
    /// The Content-Length header, if any.
    public var contentLength: String? = nil
    /// The client's TCP port: requests with the same one came over the same connection.
    public let clientPort: Int?
}

/// A scriptable HTTP server (Python 3, `Scripts/faultserver.py`) on 127.0.0.1 and a free port:
/// plan a sequence of responses per path (status sequences, resets, truncation, stalls, slow
/// bodies, redirects, Authorization echo), require an Authorization header under a path prefix,
/// and read the log of requests. Each instance is its own
/// process; it stops on `stop()` or deinit and exits by itself if the test process goes away.
public final class FaultServer: @unchecked Sendable {
    /// The port on 127.0.0.1.
    public let port: Int
    private let process: ChildProcess
    private let commandLock = NSLock()

    /// Starts the server and returns once it listens.
    public init() throws {
        process = try ChildProcess(["python3", "-u", supportScriptsDirectory + "/faultserver.py"],
                                   captureStdout: true)
        let line = try process.readLine(timeout: 20)
        guard line.hasPrefix("PORT "), let port = Int(line.dropFirst(5)) else {
            process.terminate()
            throw SupportError("faultserver said '\(line)' instead of its port")
        }
        self.port = port
    }

    deinit { stop() }

    /// The URL of `path` on `host` (127.0.0.1 or localhost, which count as different origins).
    public func url(_ path: String, host: String = "127.0.0.1") -> String {
        "http://\(host):\(port)" + (path.hasPrefix("/") ? path : "/" + path)
    }

    /// Plans the responses for `path` (without query): request n gets `responses[n]`, and the last
    /// one repeats once the plan is used up.
    public func plan(_ path: String, _ responses: [FaultResponse]) throws {
        precondition(!responses.isEmpty, "a plan needs at least one response")
        _ = try send(["op": "plan", "path": path, "steps": responses.map(\.json)])
    }

    /// Plans the responses for `path`; see `plan(_:_:)`.
    public func plan(_ path: String, _ responses: FaultResponse...) throws {
        try plan(path, responses)
    }

    /// Answers 401 with `challenge` (as WWW-Authenticate) to every request whose path starts with
    /// `prefix` and whose Authorization header is not exactly `authorization`; no planned
    /// response is used up by such a request. For standing in for a registry that requires basic auth.
    public func requireAuthorization(prefix: String, authorization: String, challenge: String) throws {
        _ = try send(["op": "auth", "prefix": prefix, "authorization": authorization, "challenge": challenge])
    }

    /// Plans the responses to `method` requests for every path starting with `prefix` (exact plans
    /// win, then the longest prefix); the last response repeats.
    public func plan(_ method: String, prefix: String, _ responses: [FaultResponse]) throws {
        precondition(!responses.isEmpty, "a plan needs at least one response")
        _ = try send(["op": "plan", "path": prefix, "method": method, "prefix": true, "steps": responses.map(\.json)])
    }

    /// Makes the server a proxy for `url` (`http://127.0.0.1:PORT`): unplanned requests and
    /// `.forward` steps go there with their Host header. `locationHost` replaces the host of the
    /// answers' Location headers; requests whose Host starts with `injectHost` are sent on with
    /// `injectAuthorization` (as a pre-signed object-storage URL would carry its own access).
    public func proxy(to url: String, locationHost: String? = nil, injectHost: String? = nil,
                      injectAuthorization: String? = nil) throws {
        var command: [String: Any] = ["op": "upstream", "url": url]
        if let locationHost { command["location_host"] = locationHost }
        if let injectHost { command["inject_host"] = injectHost }
        if let injectAuthorization { command["inject_authorization"] = injectAuthorization }
        _ = try send(command)
    }

    /// The requests received so far, in order, optionally only those for `path` (ignoring queries).
    public func requests(path: String? = nil) throws -> [RecordedRequest] {
        let reply = try send(["op": "log"])
        let data = try JSONSerialization.data(withJSONObject: reply["log"] ?? [])
        let all = try JSONDecoder().decode([RecordedRequest].self, from: data)
        guard let path else { return all }
        return all.filter { $0.path.split(separator: "?", maxSplits: 1).first.map(String.init) == path }
    }

    /// Forgets all plans, authorization rules and logged requests.
    public func clear() throws {
        _ = try send(["op": "clear"])
    }

    /// Stops the server; idempotent.
    public func stop() {
        process.terminate(grace: 2)
    }

    private func send(_ command: [String: Any]) throws -> [String: Any] {
        commandLock.lock()
        defer { commandLock.unlock() }
        let data = try JSONSerialization.data(withJSONObject: command)
        try process.writeLine(String(decoding: data, as: UTF8.self))
        let line = try process.readLine(timeout: 20)
        guard let reply = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              reply["ok"] as? Bool == true else {
            throw SupportError("faultserver refused \(command["op"] ?? "?"): \(line)")
        }
        return reply
    }
}
