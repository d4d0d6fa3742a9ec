/// A `bundle.include` entry of the chart list: a path relative to the chart list whose
/// components may hold `*` (any run of characters within one component) and `?` (one character),
/// or be `**` (any number of components, none included). `*`, `?` and `**` never match a name
/// that starts with `.` unless the pattern's component starts with `.` itself (the shell's rule).
/// A trailing `/` matches directories only. What a pattern matches is decided by the caller
/// walking the project; this value only parses and matches names.
public struct IncludePattern: Sendable, Equatable, CustomStringConvertible {
    /// One component of the pattern.
    public enum Component: Sendable, Equatable {
        /// A name matched as it is written.
        case literal(String)
        /// A name with `*` or `?`, matched by ``IncludePattern/matches(_:name:)``.
        case wildcard(String)
        /// `**`: any number of components (none included).
        case anyDepth
    }

    /// The pattern as written.
    public let text: String
    /// Its components, split at `/`.
    public let components: [Component]
    /// Written with a trailing `/`: only directories match.
    public let directoryOnly: Bool

    /// Parses a pattern; refuses what could name a file outside the project (an absolute path,
    /// `~`, `..`), what is ambiguous (`.` or empty components, backslashes, control characters)
    /// and glob syntax it does not support (`[...]`, `{a,b}`, `**` inside a component).
    public init(parsing text: String) throws(IncludePatternError) {
        func refuse(_ reason: String) -> IncludePatternError { IncludePatternError(message: "\(Quoting.doubleQuoted(text)) \(reason)") }
        guard !text.isEmpty else { throw refuse("is empty") }
        if text.hasPrefix("/") || text.hasPrefix("~") {
            throw refuse("is not relative to the chart list; files outside the project are refused")
        }
        if text.contains("\\") { throw refuse("holds a backslash; write / between components and name files without backslashes") }
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) { throw refuse("holds a control character") }
        if text.contains(where: { "[]{}".contains($0) }) {
            throw refuse("uses [ ] or { }, which bundle.include does not support (only *, ? and **)")
        }
        var body = Substring(text)
        directoryOnly = body.hasSuffix("/")
        if directoryOnly { body = body.dropLast() }
        var components: [Component] = []
        for part in body.split(separator: "/", omittingEmptySubsequences: false).map(String.init) {
            switch part {
            case "": throw refuse("has an empty component")
            case ".": throw refuse("has a \".\" component; write the path without it")
            case "..": throw refuse("leads out of the project (..); files outside the project are refused")
            case "**": components.append(.anyDepth)
            default:
                if part.contains("**") { throw refuse("has ** inside a component; ** stands for whole components (a/**/b)") }
                components.append(part.contains(where: { $0 == "*" || $0 == "?" }) ? .wildcard(part) : .literal(part))
            }
        }
        self.text = text
        self.components = components
    }

    /// Whether the pattern has no wildcard: it names one file or directory.
    public var isLiteral: Bool {
        components.allSatisfy { if case .literal = $0 { return true } else { return false } }
    }

    /// The pattern as written.
    public var description: String { text }

    /// Whether one name matches one glob component: `*` is any run of characters, `?` one
    /// character; a name starting with `.` matches only a glob starting with `.`.
    public static func matches(_ glob: String, name: String) -> Bool {
        if name.hasPrefix(".") && !glob.hasPrefix(".") { return false }
        let g = Array(glob), n = Array(name)
        var gi = 0, ni = 0
        var star: Int?
        var resume = 0
        while ni < n.count {
            if gi < g.count && (g[gi] == "?" || g[gi] == n[ni]) {
                gi += 1
                ni += 1
            } else if gi < g.count && g[gi] == "*" {
                star = gi
                resume = ni
                gi += 1
            } else if let s = star {
                gi = s + 1
                resume += 1
                ni = resume
            } else {
                return false
            }
        }
        while gi < g.count && g[gi] == "*" { gi += 1 }
        return gi == g.count
    }
}

/// Why a `bundle.include` pattern was refused.
public struct IncludePatternError: Error, Sendable, CustomStringConvertible {
    /// What is wrong, naming the pattern.
    public let message: String

    public var description: String { message }
}
