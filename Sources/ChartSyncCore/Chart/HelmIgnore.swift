/// The rules of a chart's `.helmignore`, as Helm 4 reads and applies them (pkg/ignore/rules.go)
/// when it loads a chart directory for `helm package`:
///
/// - one rule a line, trimmed; blank lines and lines starting with `#` are skipped; a UTF-8 BOM
///   before the first line is dropped;
/// - a rule is a Go glob (``GoGlob``); `**` is refused, as is a malformed glob;
/// - a rule without `/` matches the last path component, a rule with `/` the whole relative
///   path, a rule starting with `/` the whole path from the chart's root;
/// - a trailing `/` makes a rule apply to directories only;
/// - a leading `!` negates, with Helm's own meaning: evaluation stops at the first rule that
///   decides, and a negated rule decides "ignore" for every path it does **not** match (and for
///   every file when it names directories), so `!x` ignores everything but `x` when it comes
///   first; a path it matches goes on to the next rule;
/// - `templates/.?*` (dot files in templates/) is always added last;
/// - an ignored directory is skipped with all it holds; `.` is never ignored.
public struct HelmIgnore: Sendable, Equatable {
    /// One rule.
    public struct Rule: Sendable, Equatable {
        /// The line as written (trimmed).
        public let raw: String
        /// The glob, without `!`, trailing `/` and leading `/`.
        let glob: String
        let negated: Bool
        let directoriesOnly: Bool
        /// Matched against the whole path (it has a `/`) or only the last component.
        let wholePath: Bool
    }

    /// Why a `.helmignore` cannot be used.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The line (from 1).
        public let line: Int
        /// The rule as written.
        public let rule: String
        /// What is wrong with it.
        public let reason: String
        public var description: String { "line \(line): \(Quoting.doubleQuoted(rule)): \(reason)" }
    }

    /// The rules in order, Helm's default last.
    public private(set) var rules: [Rule]

    /// The rules of a `.helmignore` text (nil: there is none), followed by Helm's default.
    public init(parsing bytes: [UInt8]?) throws(ParseError) {
        rules = []
        var text = bytes ?? []
        if text.starts(with: [0xEF, 0xBB, 0xBF]) { text.removeFirst(3) }
        // Go's bufio.ScanLines: split at \n, drop one \r before it.
        for (index, slice) in text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            var line = Array(slice)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if let rule = try Self.rule(String(decoding: line, as: UTF8.self), line: index + 1) { rules.append(rule) }
        }
        // Helm's AddDefaults: dot files in templates/.
        if let rule = try? Self.rule("templates/.?*", line: 0) { rules.append(rule) }
    }

    /// Parses one line; nil for a blank line or a comment.
    static func rule(_ line: String, line number: Int) throws(ParseError) -> Rule? {
        let raw = line.trimmingGoSpace()
        if raw.isEmpty || raw.hasPrefix("#") { return nil }
        if raw.contains("**") { throw ParseError(line: number, rule: raw, reason: "double-star (**) syntax is not supported (Helm refuses it too)") }
        if GoGlob.match(raw, "abc") == nil { throw ParseError(line: number, rule: raw, reason: "syntax error in pattern") }
        var glob = Substring(raw)
        let negated = glob.hasPrefix("!")
        if negated { glob = glob.dropFirst() }
        let directoriesOnly = glob.hasSuffix("/")
        if directoriesOnly { glob = glob.dropLast() }
        var wholePath = glob.contains("/")
        if glob.hasPrefix("/") {
            glob = glob.dropFirst()
            wholePath = true
        }
        return Rule(raw: raw, glob: String(glob), negated: negated, directoriesOnly: directoriesOnly, wholePath: wholePath)
    }

    /// Whether Helm leaves out `path` (relative to the chart directory, `/`-separated, no
    /// trailing `/`), a directory when `isDirectory`.
    public func ignores(_ path: String, isDirectory: Bool) -> Bool {
        if path.isEmpty || path == "." || path == "./" { return false }
        for rule in rules {
            let subject = rule.wholePath ? path : Self.baseName(path)
            // A glob that fails to match later in the name counts as no match (Helm logs and goes on).
            let matches = GoGlob.match(rule.glob, subject) ?? false
            if rule.negated {
                if rule.directoriesOnly && !isDirectory { return true }
                if !matches { return true }
                continue
            }
            if rule.directoriesOnly && !isDirectory { continue }
            if matches { return true }
        }
        return false
    }

    /// Go's `filepath.Base` for a non-empty relative path.
    static func baseName(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return String(trimmed) }
        return String(trimmed[trimmed.index(after: slash)...])
    }
}

extension String {
    /// Go's `strings.TrimSpace` for the ASCII and Unicode white space a rule line may carry.
    fileprivate func trimmingGoSpace() -> String {
        let scalars = unicodeScalars
        func space(_ c: Unicode.Scalar) -> Bool { c.properties.isWhitespace }
        guard let first = scalars.firstIndex(where: { !space($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !space($0) })!
        return String(scalars[first...last])
    }
}
