import ChartSyncBasics
import Glibc

/// Basic auth or a bearer token; `description`, `debugDescription` and mirrors never reveal the secret.
public enum Credentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// HTTP basic authentication.
    case basic(username: String, password: String)
    /// An `Authorization: Bearer` token.
    case bearer(token: String)

    /// Names the kind of credentials (and the user name for basic), never the password or token.
    public var description: String {
        switch self {
        case let .basic(username, _): return "basic credentials for user '\(username)' (password redacted)"
        case .bearer: return "bearer token (redacted)"
        }
    }

    /// The same as `description`, so that debug printing does not reveal secrets either.
    public var debugDescription: String { description }

    /// A mirror without the secret, so that `dump` does not reveal it.
    public var customMirror: Mirror { Mirror(self, children: ["redacted": description]) }

    /// The secret strings (password or token), for scrubbing messages.
    var secrets: [String] {
        switch self {
        case let .basic(_, password): return [password]
        case let .bearer(token): return [token]
        }
    }
}

/// Why a credentials file could not be used.
public enum CredentialsError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened or read.
    case unreadable(path: String, message: String)
    /// Others (neither the owner nor the group) may access the file; `mode` is its permission bits.
    case insecurePermissions(path: String, mode: UInt32)
    /// A line is not `key: value` with a known key, or the keys do not make one kind of credentials.
    case malformed(path: String, line: Int, message: String)
    /// The chart list names an environment variable that is not set (or empty).
    case unsetVariable(key: String, name: String)
    /// A Docker or Helm registry config file (`config.json`) is not what `docker login` and
    /// `helm registry login` write; `message` names the field (and registry key), never a secret.
    case malformedRegistryConfig(path: String, message: String)

    /// A message naming the file and what is wrong; never a secret.
    public var description: String {
        switch self {
        case let .unreadable(path, message):
            return "cannot read credentials file \(path): \(message)"
        case let .insecurePermissions(path, mode):
            return "credentials file \(path) is accessible to others (mode \(String(mode, radix: 8))); "
                + "restrict it with chmod 600 (or 640)"
        case let .malformed(path, line, message):
            return "credentials file \(path), line \(line): \(message)"
        case let .unsetVariable(key, name):
            return "\(key) names the environment variable \(name), which is not set; no credentials would be sent"
        case let .malformedRegistryConfig(path, message):
            return "registry credentials file \(path): \(message)"
        }
    }
}

/// Reading credentials without putting them in argv: from environment variables or a credentials file.
///
/// The credentials file holds `key: value` lines; keys are `username`, `password` and `token`.
/// Blank lines and lines starting with `#` are ignored; a value is the rest of the line after the
/// first colon, with surrounding spaces removed (no quoting). Either `token` alone (bearer), or
/// `username` with an optional `password` (basic, empty password when absent). Each key at most once.
/// Like ssh keys, the file must not be accessible to others: any "other" permission bit
/// (mode & 0o007) is refused with `insecurePermissions`; owner and group access are fine (600, 640).
public enum CredentialsSource {
    /// The default environment variable for the basic-auth user name.
    public static let usernameVariable = "CHARTSYNC_USERNAME"
    /// The default environment variable for the basic-auth password.
    public static let passwordVariable = "CHARTSYNC_PASSWORD"
    /// The default environment variable for a bearer token.
    public static let tokenVariable = "CHARTSYNC_TOKEN"

    /// Credentials from the environment: a non-empty token variable gives `.bearer` (it wins over a
    /// user name); otherwise a non-empty user name gives `.basic` with the password (empty if unset);
    /// otherwise nil (a password alone is ignored).
    public static func load(
        environment: [String: String],
        usernameVariable: String = CredentialsSource.usernameVariable,
        passwordVariable: String = CredentialsSource.passwordVariable,
        tokenVariable: String = CredentialsSource.tokenVariable
    ) -> Credentials? {
        if let token = environment[tokenVariable], !token.isEmpty {
            return .bearer(token: token)
        }
        if let username = environment[usernameVariable], !username.isEmpty {
            return .basic(username: username, password: environment[passwordVariable] ?? "")
        }
        return nil
    }

    /// Credentials from a credentials file (format above); nil when it holds no keys.
    public static func load(file path: String) throws(CredentialsError) -> Credentials? {
        let text = try readSecretFile(path)
        return try parse(text, path: path)
    }

    /// Parses the text of a credentials file; `path` only names it in errors.
    public static func parse(_ text: String, path: String) throws(CredentialsError) -> Credentials? {
        var values: [String: String] = [:]
        var lineNumber = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            let line = trim(rawLine)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":") else {
                throw .malformed(path: path, line: lineNumber, message: "expected 'key: value'")
            }
            let key = trim(line[..<colon]).lowercased()
            let value = trim(line[line.index(after: colon)...])
            guard ["username", "password", "token"].contains(key) else {
                throw .malformed(path: path, line: lineNumber,
                                 message: "unknown key '\(key)' (expected username, password or token)")
            }
            guard values[key] == nil else {
                throw .malformed(path: path, line: lineNumber, message: "'\(key)' appears twice")
            }
            values[key] = value
        }
        if let token = values["token"] {
            guard values["username"] == nil, values["password"] == nil else {
                throw .malformed(path: path, line: lineNumber,
                                 message: "give either a token or a username and password, not both")
            }
            guard !token.isEmpty else { throw .malformed(path: path, line: lineNumber, message: "empty token") }
            return .bearer(token: token)
        }
        if let username = values["username"] {
            guard !username.isEmpty else {
                throw .malformed(path: path, line: lineNumber, message: "empty username")
            }
            return .basic(username: username, password: values["password"] ?? "")
        }
        if values["password"] != nil {
            throw .malformed(path: path, line: lineNumber, message: "a password needs a username")
        }
        return nil
    }

    private static func trim(_ s: Substring) -> String {
        var s = s
        while let first = s.first, first == " " || first == "\t" || first == "\r" { s.removeFirst() }
        while let last = s.last, last == " " || last == "\t" || last == "\r" { s.removeLast() }
        return String(s)
    }

    private static func readSecretFile(_ path: String) throws(CredentialsError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path: path, message: SystemError.text(errno)) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .unreadable(path: path, message: SystemError.text(errno)) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .unreadable(path: path, message: "not a regular file")
        }
        let mode = UInt32(info.st_mode) & 0o7777
        guard mode & 0o007 == 0 else { throw .insecurePermissions(path: path, mode: mode) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: path, message: SystemError.text(errno))
            }
            if n == 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
            guard bytes.count <= 65536 else { throw .unreadable(path: path, message: "larger than 64 KiB") }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .unreadable(path: path, message: "not UTF-8 text")
        }
        return text
    }
}
