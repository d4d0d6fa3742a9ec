/// Typed reading of a decoded YAML node, with errors that name the field path and line
/// (the checks Helm's strict decoding into Go structs makes).
public struct IndexFields {
    /// The node being read.
    public let node: YAMLNode
    /// A dotted path for messages, e.g. `entries.nginx[].urls`.
    public let path: String
    /// The file or URL, for messages.
    public let source: String

    /// Wraps a node.
    public init(_ node: YAMLNode, path: String, source: String) {
        self.node = node
        self.path = path
        self.source = source
    }

    /// An error at this node.
    public func error(_ message: String) -> YAMLError {
        YAMLError(source: source, line: node.line, column: 1, message: message)
    }

    /// A scalar's text; nil for null; an error for a collection.
    public func string() throws(YAMLError) -> String? {
        if node.isNull { return nil }
        guard let text = node.scalar else { throw error("\(path) must be a string, found \(node.kindName)") }
        return text
    }

    /// A YAML boolean (`true`/`false` and YAML 1.1's yes/no/on/off); null is false.
    public func bool() throws(YAMLError) -> Bool {
        if node.isNull { return false }
        if case .scalar(let text, true) = node.value {
            switch text {
            case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y": return true
            case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N": return false
            default: break
            }
        }
        throw error("\(path) must be true or false, found \(node.scalar.map { "\"\($0)\"" } ?? node.kindName)")
    }

    /// A list of strings; null is empty.
    public func strings() throws(YAMLError) -> [String] {
        if node.isNull { return [] }
        guard let items = node.items else { throw error("\(path) must be a list, found \(node.kindName)") }
        var out: [String] = []
        for item in items {
            if let text = try IndexFields(item, path: path + "[]", source: source).string() { out.append(text) }
        }
        return out
    }

    /// A list whose items are read by the caller; null is empty.
    public func list() throws(YAMLError) -> [IndexFields] {
        if node.isNull { return [] }
        guard let items = node.items else { throw error("\(path) must be a list, found \(node.kindName)") }
        return items.map { IndexFields($0, path: path + "[]", source: source) }
    }

    /// The pairs of a mapping; null is empty.
    public func pairs() throws(YAMLError) -> [(key: String, value: IndexFields)] {
        if node.isNull { return [] }
        guard let pairs = node.pairs else { throw error("\(path) must be a mapping, found \(node.kindName)") }
        return pairs.map { ($0.key, IndexFields($0.value, path: path + "." + $0.key, source: source)) }
    }

    /// The pairs of a mapping whose keys must all be in `known`; an unknown key is an error
    /// naming it and its line.
    public func fields(known: Set<String>) throws(YAMLError) -> [(key: String, value: IndexFields)] {
        if node.isNull { return [] }
        guard let pairs = node.pairs else { throw error("\(path) must be a mapping, found \(node.kindName)") }
        var out: [(key: String, value: IndexFields)] = []
        for pair in pairs {
            guard known.contains(pair.key) else {
                throw YAMLError(source: source, line: pair.keyLine, column: 1,
                                message: "unknown field \"\(pair.key)\" in \(path) (known: \(known.sorted().joined(separator: ", ")))")
            }
            out.append((pair.key, IndexFields(pair.value, path: path + "." + pair.key, source: source)))
        }
        return out
    }

    /// A mapping of strings to strings; null is empty.
    public func stringMap() throws(YAMLError) -> [String: String] {
        var out: [String: String] = [:]
        for (key, value) in try pairs() { out[key] = try value.string() ?? "" }
        return out
    }
}
