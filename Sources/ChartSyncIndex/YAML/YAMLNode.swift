/// A YAML node with the line it starts on. Scalars keep their literal text, as Helm reads
/// string fields (`version: 1.0` stays "1.0").
public struct YAMLNode: Sendable {
    /// The shape and content of a node.
    public enum Value: Sendable {
        /// A scalar's text and whether it was plain (unquoted).
        case scalar(String, plain: Bool)
        /// Key-value pairs in document order; keys are scalars.
        case mapping([YAMLPair])
        /// Items in document order.
        case sequence([YAMLNode])
    }

    /// The node's content.
    public let value: Value
    /// 1-based line where the node starts.
    public let line: Int
    /// Number of nodes this node stands for once aliases are expanded (for the alias budget).
    let weight: Int

    /// Whether this is a plain null scalar (`null`, `~` or empty).
    public var isNull: Bool {
        if case .scalar(let text, true) = value { return ["", "~", "null", "Null", "NULL"].contains(text) }
        return false
    }

    /// The scalar text, or nil for a collection.
    public var scalar: String? {
        if case .scalar(let text, _) = value { return text }
        return nil
    }

    /// The pairs of a mapping, or nil.
    public var pairs: [YAMLPair]? {
        if case .mapping(let pairs) = value { return pairs }
        return nil
    }

    /// The items of a sequence, or nil.
    public var items: [YAMLNode]? {
        if case .sequence(let items) = value { return items }
        return nil
    }

    /// The value under `key` in a mapping.
    public subscript(key: String) -> YAMLNode? {
        pairs?.first(where: { $0.key == key })?.value
    }

    /// A short name of the node's kind for messages.
    var kindName: String {
        switch value {
        case .scalar: return isNull ? "null" : "a scalar"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }
}

/// One key and value of a mapping.
public struct YAMLPair: Sendable {
    /// The key's text.
    public let key: String
    /// 1-based line of the key.
    public let keyLine: Int
    /// The value.
    public let value: YAMLNode
}

/// Limits that keep hostile YAML (alias bombs, absurd nesting) from costing time or memory.
public struct YAMLLimits: Sendable {
    /// Deepest nesting of mappings and sequences accepted.
    public var maxDepth: Int
    /// Most nodes that alias references may stand for in one document, in total.
    public var maxAliasedNodes: Int

    /// Creates limits.
    public init(maxDepth: Int = 64, maxAliasedNodes: Int = 100_000) {
        self.maxDepth = maxDepth
        self.maxAliasedNodes = maxAliasedNodes
    }
}

/// Builds `YAMLNode` trees from a libyaml event stream, enforcing `YAMLLimits`, rejecting
/// duplicate keys and non-scalar keys.
final class YAMLNodeBuilder {
    private let stream: YAMLEventStream
    private let limits: YAMLLimits
    private var anchors: [String: YAMLNode] = [:]
    private var aliasedNodes = 0

    init(stream: YAMLEventStream, limits: YAMLLimits) {
        self.stream = stream
        self.limits = limits
    }

    /// Builds the node whose first event (`kind`) is current.
    func build(_ kind: YAMLEventKind, depth: Int) throws(YAMLError) -> YAMLNode {
        let line = stream.line
        let anchor = stream.anchor
        let node: YAMLNode
        switch kind {
        case .scalar:
            node = YAMLNode(value: .scalar(stream.scalar, plain: stream.scalarIsPlain), line: line, weight: 1)
        case .alias:
            let name = stream.aliasName
            guard let target = anchors[name] else { throw stream.error("unknown alias *\(name)") }
            aliasedNodes += target.weight
            guard aliasedNodes <= limits.maxAliasedNodes else {
                throw stream.error("refused: aliases expand to more than \(limits.maxAliasedNodes) nodes (alias bomb?)")
            }
            return YAMLNode(value: target.value, line: line, weight: target.weight)
        case .mappingStart:
            try checkDepth(depth)
            var pairs: [YAMLPair] = []
            var seen = Set<String>()
            var weight = 1
            while true {
                let keyKind = try stream.next()
                if keyKind == .mappingEnd { break }
                guard keyKind == .scalar || keyKind == .alias else {
                    throw stream.error("mapping keys must be scalars")
                }
                let keyNode = try build(keyKind, depth: depth + 1)
                guard let key = keyNode.scalar else { throw stream.error("mapping keys must be scalars") }
                guard seen.insert(key).inserted else {
                    throw YAMLError(source: stream.source, line: keyNode.line, column: 1,
                                    message: "duplicate key \"\(key)\"")
                }
                let value = try build(try stream.next(), depth: depth + 1)
                weight += value.weight
                pairs.append(YAMLPair(key: key, keyLine: keyNode.line, value: value))
            }
            node = YAMLNode(value: .mapping(pairs), line: line, weight: weight)
        case .sequenceStart:
            try checkDepth(depth)
            var items: [YAMLNode] = []
            var weight = 1
            while true {
                let itemKind = try stream.next()
                if itemKind == .sequenceEnd { break }
                let item = try build(itemKind, depth: depth + 1)
                weight += item.weight
                items.append(item)
            }
            node = YAMLNode(value: .sequence(items), line: line, weight: weight)
        default:
            throw stream.error("unexpected YAML event")
        }
        if let anchor { anchors[anchor] = node }
        return node
    }

    /// Passes over the node whose first event (`kind`) is current without keeping it, except for
    /// anchored parts, which later aliases may use.
    func skip(_ kind: YAMLEventKind, depth: Int) throws(YAMLError) {
        var current = kind
        var level = 0
        while true {
            switch current {
            case .mappingStart, .sequenceStart:
                if stream.anchor != nil {
                    _ = try build(current, depth: depth + level)
                } else {
                    try checkDepth(depth + level)
                    level += 1
                }
            case .mappingEnd, .sequenceEnd:
                level -= 1
            case .scalar:
                if let anchor = stream.anchor {
                    anchors[anchor] = YAMLNode(value: .scalar(stream.scalar, plain: stream.scalarIsPlain),
                                               line: stream.line, weight: 1)
                }
            case .alias:
                guard anchors[stream.aliasName] != nil else { throw stream.error("unknown alias *\(stream.aliasName)") }
            default:
                throw stream.error("unexpected YAML event")
            }
            if level == 0 { return }
            current = try stream.next()
        }
    }

    private func checkDepth(_ depth: Int) throws(YAMLError) {
        guard depth < limits.maxDepth else {
            throw stream.error("refused: nesting deeper than \(limits.maxDepth) levels")
        }
    }
}

/// Reading a whole small YAML document (Chart.yaml, chart lists) into a node tree.
public enum YAMLDocument {
    /// Parses the first document of `bytes`; nil when the text holds no document or only null.
    public static func load(_ bytes: [UInt8], source: String, limits: YAMLLimits = .init()) throws(YAMLError) -> YAMLNode? {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(YAMLError) -> YAMLNode? in
            let stream = YAMLEventStream(bytes: raw, source: source)
            let builder = YAMLNodeBuilder(stream: stream, limits: limits)
            var kind = try stream.next()
            while kind == .streamStart || kind == .documentStart { kind = try stream.next() }
            if kind == .streamEnd { return nil }
            let node = try builder.build(kind, depth: 0)
            return node.isNull ? nil : node
            }
        }
        return try result.get()
    }
}
