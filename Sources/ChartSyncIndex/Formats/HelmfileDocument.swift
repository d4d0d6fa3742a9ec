/// One helmfile file (`helmfile.yaml`, a sub-helmfile, a base, a `.gotmpl`) read statically:
/// what the gate needs of it (releases, sub-helmfiles, bases, environment values files) with
/// the line each is written on. Go-template actions (`{{ ... }}`) are never evaluated: each is
/// listed (`templates`) and blanked before the YAML is read (a line holding only actions is
/// dropped, an action inside a line becomes a placeholder), so a value that depends on one is
/// marked `templated` instead of guessed. `---`-separated parts are read one by one, as
/// helmfile does; a part that is not valid YAML is listed in `invalid` and the rest still read.
public struct HelmfileDocument: Sendable {
    /// A Go-template action chartsync did not evaluate.
    public struct Template: Sendable, Equatable {
        /// 1-based line where the action starts.
        public let line: Int
        /// The action as written (shortened to 80 characters).
        public let text: String
        /// What it depends on, in words ("the helmfile environment (.Environment)", ...).
        public let reason: String
    }

    /// A path the file names (a sub-helmfile, a base, an environment values file).
    public struct Reference: Sendable, Equatable {
        /// The path as written (relative to the file's directory, a glob, or a remote URL).
        public let path: String
        /// 1-based line.
        public let line: Int
        /// The path contains a template action: it cannot be resolved statically.
        public let templated: Bool
        /// Environment values files: the environment's name; nil otherwise.
        public var environment: String? = nil
        /// Environment values files: a missing file is tolerated (`missingFileHandler` other than `Error`).
        public var missingAllowed = false
    }

    /// A release and the chart it installs.
    public struct Release: Sendable, Equatable {
        /// The release's name (templated parts shown as `{{…}}`).
        public let name: String
        /// 1-based line of the release's item.
        public let line: Int
        /// `chart:` as written; nil when there is none.
        public let chart: String?
        /// 1-based line of `chart:` (the release's line when there is none).
        public let chartLine: Int
        /// `version:` as written; nil when there is none.
        public let version: String?
        /// 1-based line of `version:`.
        public let versionLine: Int
        /// `installed: false` (plain): helmfile removes the release and needs no chart.
        public let uninstalled: Bool
        /// The release inherits from a release template (`inherit:`) this file does not define.
        public let inheritsUnknown: Bool
        /// `chart:` contains a template action.
        public let chartTemplated: Bool
        /// `version:` contains a template action.
        public let versionTemplated: Bool
    }

    /// A `repositories:` entry.
    public struct Repository: Sendable, Equatable {
        /// The repository's name (the `repo` of `chart: repo/name`).
        public let name: String
        /// `oci: true`.
        public let oci: Bool
    }

    /// A part of the file that is not valid YAML (or not shaped like a helmfile).
    public struct Problem: Sendable, Equatable {
        /// 1-based line.
        public let line: Int
        /// What is wrong.
        public let message: String
        /// The part holds template actions: blanking them may be what broke it.
        public let templated: Bool
    }

    /// Every release, in file order.
    public var releases: [Release] = []
    /// `helmfiles:` entries (strings or `path:`).
    public var helmfiles: [Reference] = []
    /// `bases:` entries.
    public var bases: [Reference] = []
    /// `environments.NAME.values` and `.secrets` entries that are paths (inline values are not files).
    public var environmentFiles: [Reference] = []
    /// `repositories:` entries.
    public var repositories: [Repository] = []
    /// Every template action that was not evaluated, in file order (comments and bare
    /// `{{ end }}`/`{{ else }}` are not listed: nothing depends on them).
    public var unevaluated: [Template] = []
    /// Parts that could not be read.
    public var invalid: [Problem] = []

    /// The placeholder an inline template action becomes (numbered, so keys stay distinct).
    static let placeholder = "__chartsync_template_"

    /// Whether a scalar read from a helmfile holds a template action.
    public static func isTemplated(_ text: String) -> Bool { text.contains(placeholder) }

    /// `text` with placeholders shown as `{{…}}`.
    public static func shown(_ text: String) -> String {
        guard isTemplated(text) else { return text }
        var out = ""
        var rest = Substring(text)
        while let range = rest.range(of: placeholder) {
            out += rest[..<range.lowerBound] + "{{…}}"
            rest = rest[range.upperBound...]
            if let end = rest.range(of: "__") { rest = rest[end.upperBound...] }
        }
        return out + rest
    }

    /// Reads a helmfile file's bytes; `source` names it in messages. Never throws: what cannot
    /// be read is listed in `invalid`.
    public static func parse(_ bytes: [UInt8], source: String) -> HelmfileDocument {
        var document = HelmfileDocument()
        let (text, templates) = HelmfileTemplateScanner.blank(bytes)
        document.unevaluated = templates
        let templatedLines = Set(templates.map(\.line))
        for part in parts(text) {
            // Leading newlines keep libyaml's line numbers those of the file.
            let padded = [UInt8](repeating: 0x0a, count: part.firstLine - 1) + part.bytes
            let lastLine = part.firstLine + part.bytes.filter { $0 == 0x0a }.count
            let templated = templatedLines.contains { $0 >= part.firstLine && $0 <= lastLine }
            do {
                guard let node = try YAMLDocument.load(padded, source: source) else { continue }
                document.read(node, templated: templated)
            } catch {
                document.invalid.append(Problem(line: error.line, message: error.message, templated: templated))
            }
        }
        return document
    }

    /// The `---`-separated parts of the text with the line each starts on.
    private static func parts(_ text: [UInt8]) -> [(bytes: [UInt8], firstLine: Int)] {
        var result: [(bytes: [UInt8], firstLine: Int)] = []
        var current: [UInt8] = []
        var start = 1
        var line = 1
        var lineStart = 0
        var index = 0
        while index <= text.count {
            if index == text.count || text[index] == 0x0a {
                let content = text[lineStart..<index]
                let isSeparator = content.starts(with: Array("---".utf8))
                    && content.dropFirst(3).allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }
                if isSeparator {
                    result.append((current, start))
                    current = []
                    start = line + 1
                } else {
                    current += content
                    if index < text.count { current.append(0x0a) }
                }
                line += 1
                lineStart = index + 1
            }
            index += 1
        }
        result.append((current, start))
        return result.filter { !$0.bytes.allSatisfy { $0 == 0x20 || $0 == 0x0a || $0 == 0x09 || $0 == 0x0d } }
    }

    /// Release templates (`templates:`) by name, for `inherit:`.
    private var releaseTemplates: [String: YAMLNode] = [:]

    /// Takes what the gate needs from one part's top-level mapping.
    private mutating func read(_ node: YAMLNode, templated: Bool) {
        guard let pairs = node.pairs else {
            invalid.append(Problem(line: node.line, message: "expected a mapping (releases:, helmfiles:, ...), found \(node.kindName)",
                                   templated: templated))
            return
        }
        for pair in node["templates"]?.pairs ?? [] { releaseTemplates[pair.key] = pair.value }
        for pair in pairs {
            switch pair.key {
            case "releases": readReleases(pair.value, templated: templated)
            case "helmfiles": helmfiles += references(pair.value, key: "helmfiles", templated: templated, allowPath: true)
            case "bases": bases += references(pair.value, key: "bases", templated: templated, allowPath: false)
            case "environments": readEnvironments(pair.value, templated: templated)
            case "repositories":
                for item in pair.value.items ?? [] {
                    if let name = item["name"]?.scalar {
                        repositories.append(Repository(name: name, oci: item["oci"]?.scalar == "true"))
                    }
                }
            default: continue
            }
        }
    }

    private mutating func readReleases(_ node: YAMLNode, templated: Bool) {
        if node.isNull { return }
        guard let items = node.items else {
            invalid.append(Problem(line: node.line, message: "releases: expected a list, found \(node.kindName)", templated: templated))
            return
        }
        for item in items {
            guard item.pairs != nil else {
                if !(item.scalar.map(Self.isTemplated) ?? false) {
                    invalid.append(Problem(line: item.line, message: "a release must be a mapping, found \(item.kindName)", templated: templated))
                }
                continue
            }
            // A key of the release itself, else of what it merges (`<<: *anchor`) or inherits.
            var sources = [item]
            for merged in [item["<<"]].compactMap({ $0 }) { sources += merged.items ?? [merged] }
            var inheritsUnknown = false
            for inherit in item["inherit"]?.items ?? [] {
                if let name = inherit["template"]?.scalar, let template = releaseTemplates[name] {
                    sources.append(template)
                } else {
                    inheritsUnknown = true
                }
            }
            func pair(_ key: String) -> (value: YAMLNode, keyLine: Int)? {
                for source in sources {
                    if let found = source.pairs?.first(where: { $0.key == key }) { return (found.value, found.keyLine) }
                }
                return nil
            }
            let chart = pair("chart")
            let version = pair("version")
            let name = item["name"]?.scalar.map(Self.shown) ?? "(unnamed)"
            releases.append(Release(
                name: name, line: item.line, chart: chart?.value.scalar, chartLine: chart?.keyLine ?? item.line,
                version: version?.value.isNull == false ? version?.value.scalar : nil, versionLine: version?.keyLine ?? item.line,
                uninstalled: pair("installed")?.value.scalar == "false", inheritsUnknown: inheritsUnknown,
                chartTemplated: chart?.value.scalar.map(Self.isTemplated) ?? false,
                versionTemplated: version?.value.scalar.map(Self.isTemplated) ?? false))
        }
    }

    /// Path entries of `helmfiles:` or `bases:` (strings; for helmfiles also `- path: x`).
    private mutating func references(_ node: YAMLNode, key: String, templated: Bool, allowPath: Bool) -> [Reference] {
        if node.isNull { return [] }
        guard let items = node.items else {
            invalid.append(Problem(line: node.line, message: "\(key): expected a list, found \(node.kindName)", templated: templated))
            return []
        }
        var out: [Reference] = []
        for item in items {
            if let path = item.scalar, !item.isNull {
                out.append(Reference(path: path, line: item.line, templated: Self.isTemplated(path)))
            } else if allowPath, let path = item["path"]?.scalar {
                out.append(Reference(path: path, line: item["path"]!.line, templated: Self.isTemplated(path)))
            } else {
                invalid.append(Problem(line: item.line, message: "\(key): expected a path\(allowPath ? " or path: PATH" : ""), found \(item.kindName)",
                                       templated: templated))
            }
        }
        return out
    }

    private mutating func readEnvironments(_ node: YAMLNode, templated: Bool) {
        for environment in node.pairs ?? [] {
            let handler = environment.value["missingFileHandler"]?.scalar
            let tolerant = handler != nil && handler != "Error"
            for key in ["values", "secrets"] {
                for item in environment.value[key]?.items ?? [] {
                    guard let path = item.scalar, !item.isNull else { continue }   // inline values are not files
                    var reference = Reference(path: path, line: item.line, templated: Self.isTemplated(path))
                    reference.environment = Self.shown(environment.key)
                    reference.missingAllowed = tolerant
                    environmentFiles.append(reference)
                }
            }
        }
    }
}

/// Finds Go-template actions in a helmfile text and blanks them so the rest reads as YAML.
enum HelmfileTemplateScanner {
    /// The text with every action removed (a line holding only actions and whitespace becomes
    /// empty; an action inside a line becomes a numbered placeholder; line breaks inside an
    /// action are kept, so lines keep their numbers), and the actions that were not evaluated.
    static func blank(_ bytes: [UInt8]) -> (text: [UInt8], templates: [HelmfileDocument.Template]) {
        let open: [UInt8] = [0x7b, 0x7b]   // {{
        guard bytes.firstRange(of: open) != nil else { return (bytes, []) }
        var actions: [(start: Int, end: Int, line: Int)] = []   // end: one past the closing }}
        var index = 0
        var line = 1
        while index < bytes.count {
            if bytes[index] == 0x0a { line += 1 }
            if bytes[index] == 0x7b, index + 1 < bytes.count, bytes[index + 1] == 0x7b {
                let end = closing(bytes, from: index + 2)
                actions.append((index, end, line))
                line += bytes[index..<end].filter { $0 == 0x0a }.count
                index = end
                continue
            }
            index += 1
        }
        var templates: [HelmfileDocument.Template] = []
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var position = 0
        for (number, action) in actions.enumerated() {
            out += bytes[position..<action.start]
            let inner = String(decoding: bytes[action.start..<action.end], as: UTF8.self)
            // A comment or a bare end/else yields no text; anything else stands for a value.
            if let reason = reason(inner) {
                let text = inner.count > 80 ? String(inner.prefix(77)) + "..." : inner
                templates.append(.init(line: action.line, text: text.replacingOccurrences(of: "\n", with: " "), reason: reason))
                out += Array((HelmfileDocument.placeholder + "\(number)__").utf8)
            }
            out += Array(repeating: 0x0a, count: bytes[action.start..<action.end].filter { $0 == 0x0a }.count)
            position = action.end
        }
        out += bytes[position...]
        // A line holding only placeholders and whitespace is control flow or a comment: dropped.
        var lines = out.split(separator: 0x0a, omittingEmptySubsequences: false)
        for i in lines.indices {
            var rest = String(decoding: lines[i], as: UTF8.self)
            guard rest.contains(HelmfileDocument.placeholder) else { continue }
            while let range = rest.range(of: HelmfileDocument.placeholder) {
                let tail = rest[range.upperBound...]
                let end = tail.range(of: "__").map(\.upperBound) ?? tail.endIndex
                rest.removeSubrange(range.lowerBound..<end)
            }
            if rest.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { lines[i] = [] }
        }
        return (Array(lines.joined(separator: [0x0a])), templates)
    }

    /// One past the `}}` closing the action whose body starts at `from` (quotes and comments
    /// inside it skipped); the end of the text when it is not closed.
    private static func closing(_ bytes: [UInt8], from: Int) -> Int {
        var index = from
        var quote: UInt8? = nil
        while index < bytes.count {
            let byte = bytes[index]
            if let q = quote {
                if byte == 0x5c && q == 0x22 { index += 2; continue }   // \ in "..."
                if byte == q { quote = nil }
            } else if byte == 0x22 || byte == 0x60 {                  // " or `
                quote = byte
            } else if byte == 0x2f, index + 1 < bytes.count, bytes[index + 1] == 0x2a {   // /* comment */
                var j = index + 2
                while j + 1 < bytes.count && !(bytes[j] == 0x2a && bytes[j + 1] == 0x2f) { j += 1 }
                index = j + 2
                continue
            } else if byte == 0x7d, index + 1 < bytes.count, bytes[index + 1] == 0x7d {
                return index + 2
            }
            index += 1
        }
        return bytes.count
    }

    /// Why an action cannot be evaluated statically; nil for comments and bare `end`/`else`.
    static func reason(_ action: String) -> String? {
        var body = Substring(action.dropFirst(2))
        if body.hasSuffix("}}") { body = body.dropLast(2) }
        body = body.drop { $0 == "-" || $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        while let last = body.last, last == "-" || last == " " || last == "\t" || last == "\n" || last == "\r" { body = body.dropLast() }
        if body.hasPrefix("/*") || body == "end" || body == "else" || body.isEmpty { return nil }
        let words = body.split { !($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "$") }.map(String.init)
        func uses(_ word: String) -> Bool { words.contains(word) }
        func uses(prefix: String) -> Bool { words.contains { $0.hasPrefix(prefix) } }
        var reasons: [String] = []
        if uses(prefix: ".Environment") { reasons.append("the helmfile environment (.Environment)") }
        if uses("requiredEnv") || uses("env") { reasons.append("an environment variable") }
        if uses("exec") { reasons.append("a command's output (exec)") }
        if uses("readFile") || uses("readDir") || uses("readDirEntries") { reasons.append("a file's content (readFile)") }
        if uses("lookup") || uses("fetchSecretValue") || uses("expandSecretRefs") || uses("kubectl") {
            reasons.append("a live cluster or secret store")
        }
        if uses(prefix: ".Values") || uses(prefix: ".StateValues") || uses(prefix: "$.Values") { reasons.append("state values (.Values)") }
        if uses(prefix: ".Release") || uses(prefix: ".Namespace") { reasons.append("the release being rendered (.Release)") }
        let keyword = words.first ?? ""
        if ["if", "else", "range", "with", "define", "template", "block"].contains(keyword) {
            reasons.append("control flow (`\(keyword)`): every branch's static text is read")
        }
        return reasons.isEmpty ? "template variables or functions" : reasons.joined(separator: ", ")
    }
}
