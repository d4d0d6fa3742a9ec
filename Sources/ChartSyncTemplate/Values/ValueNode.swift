import ChartSyncIndex

/// One key and value of a values mapping.
public struct ValuePair: Sendable {
    /// The key.
    public let key: String
    /// The 1-based line of the key.
    public let keyLine: Int
    /// The value.
    public var value: ValueNode
}

/// A node of a chart's values (values.yaml, and the values Helm computes from it), with the file
/// and line it was read from. Scalars keep their source text, so `tag: 1.10` stays "1.10".
public struct ValueNode: Sendable {
    /// The shape and content of a node.
    public enum Content: Sendable {
        /// A YAML null (`null`, `~`, or nothing).
        case null
        /// A scalar's text and whether it was plain (unquoted), which decides its type.
        case scalar(String, plain: Bool)
        /// Key-value pairs in document order.
        case map([ValuePair])
        /// Items in document order.
        case list([ValueNode])
    }

    /// What a scalar is once YAML (1.1, as Helm's YAML library reads it) has typed it.
    public enum ScalarType: Sendable, Equatable {
        /// A string.
        case string
        /// A boolean.
        case bool(Bool)
        /// A number, and whether it is zero.
        case number(isZero: Bool)
    }

    /// The content.
    public var content: Content
    /// The entry name of the file the node came from.
    public let file: String
    /// The 1-based line it starts on.
    public let line: Int

    /// An empty mapping, standing for a missing or empty values file.
    public static func emptyMap(file: String) -> ValueNode { ValueNode(content: .map([]), file: file, line: 1) }

    /// Whether this is a null.
    public var isNull: Bool { if case .null = content { return true } else { return false } }

    /// The pairs of a mapping, or nil.
    public var pairs: [ValuePair]? { if case .map(let pairs) = content { return pairs } else { return nil } }

    /// The items of a list, or nil.
    var items: [ValueNode]? { if case .list(let items) = content { return items } else { return nil } }

    /// The value under `key` in a mapping.
    public subscript(key: String) -> ValueNode? {
        pairs?.first(where: { $0.key == key })?.value
    }

    /// The node at a dotted path of mapping keys (`redis.enabled`), or nil when a step is missing.
    public func at(_ path: String) -> ValueNode? {
        var node = self
        for key in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard let next = node[String(key)] else { return nil }
            node = next
        }
        return node
    }

    /// The scalar's text (quoted scalars without their quotes), or nil for null and collections.
    public var text: String? { if case .scalar(let text, _) = content { return text } else { return nil } }

    /// The YAML type of a scalar; nil for null and collections.
    public var scalarType: ScalarType? {
        guard case .scalar(let text, let plain) = content else { return nil }
        guard plain else { return .string }
        return ValueNode.plainType(text)
    }

    /// The YAML 1.1 type of a plain scalar (Helm reads values with go-yaml v2: `yes`, `on` and `y` are booleans).
    static func plainType(_ text: String) -> ScalarType {
        switch text {
        case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y": return .bool(true)
        case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N": return .bool(false)
        default: break
        }
        if let zero = numberIsZero(text) { return .number(isZero: zero) }
        return .string
    }

    /// Whether a plain scalar is a YAML number, and if so whether it is zero.
    static func numberIsZero(_ text: String) -> Bool? {
        var body = Substring(text)
        if body.first == "+" || body.first == "-" { body = body.dropFirst() }
        let cleaned = String(body.filter { $0 != "_" })
        if cleaned.hasPrefix("0x") || cleaned.hasPrefix("0o") {
            let digits = cleaned.dropFirst(2)
            guard !digits.isEmpty, digits.allSatisfy({ $0.isHexDigit }) else { return nil }
            return digits.allSatisfy { $0 == "0" }
        }
        if [".inf", ".Inf", ".INF"].contains(cleaned) { return false }
        if [".nan", ".NaN", ".NAN"].contains(String(body)) { return false }
        guard let first = cleaned.first, first.isNumber || first == "." else { return nil }
        guard cleaned.allSatisfy({ $0.isASCII && ($0.isNumber || ".eE+-".contains($0)) }), let value = Double(cleaned) else { return nil }
        return value == 0
    }

    /// How Helm renders a plain YAML number: values are decoded into float64 and printed with
    /// Go's `%v` (shortest digits; exponent form from 1e+06 up and below 1e-04). `1.10` renders as
    /// `1.1`, `20230101` as `2.0230101e+07`. Nil when `text` is not a number.
    static func helmRendering(ofNumber text: String) -> String? {
        var body = Substring(text.filter { $0 != "_" })
        var sign = ""
        if body.first == "-" { sign = "-"; body = body.dropFirst() } else if body.first == "+" { body = body.dropFirst() }
        let value: Double
        if body.hasPrefix("0x"), let parsed = UInt64(body.dropFirst(2), radix: 16) {
            value = Double(parsed)
        } else if body.hasPrefix("0o"), let parsed = UInt64(body.dropFirst(2), radix: 8) {
            value = Double(parsed)
        } else if body.count > 1, body.first == "0", body.allSatisfy({ $0 >= "0" && $0 <= "7" }), let parsed = UInt64(body, radix: 8) {
            value = Double(parsed)  // YAML 1.1 octal, as go-yaml v2 reads it
        } else if numberIsZero(String(body)) != nil, let parsed = Double(body) {
            value = parsed
        } else {
            return nil
        }
        guard value.isFinite else { return nil }
        if value == 0 { return sign + "0" }
        // Shortest round-trip digits and the decimal point position, from Swift's own shortest form.
        let shortest = "\(value)"
        let parts = shortest.split(separator: "e")
        let mantissa = parts[0]
        let exponent = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        let integer = mantissa.split(separator: ".", omittingEmptySubsequences: false)[0]
        var digits = Array(mantissa.filter { $0 != "." })
        var point = integer.count + exponent
        while digits.first == "0" { digits.removeFirst(); point -= 1 }
        while digits.last == "0" { digits.removeLast() }
        let decimalExponent = point - 1
        if decimalExponent < -4 || decimalExponent >= 6 {
            var out = String(digits[0])
            if digits.count > 1 { out += "." + String(digits[1...]) }
            let magnitude = abs(decimalExponent)
            return sign + out + "e" + (decimalExponent < 0 ? "-" : "+") + (magnitude < 10 ? "0" : "") + String(magnitude)
        }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + String(digits) }
        if point >= digits.count { return sign + String(digits) + String(repeating: "0", count: point - digits.count) }
        return sign + String(digits[..<point]) + "." + String(digits[point...])
    }

    /// For a plain number scalar Helm renders differently from how it is written: how Helm renders it.
    public var helmRenderingIfDifferent: String? {
        guard case .scalar(let text, true) = content, case .number? = scalarType,
              let rendered = ValueNode.helmRendering(ofNumber: text), rendered != text else { return nil }
        return rendered
    }

    /// Whether Go templates take the node as true: false, 0, null, "" and empty collections are false.
    var isTruthy: Bool {
        switch content {
        case .null: return false
        case .map(let pairs): return !pairs.isEmpty
        case .list(let items): return !items.isEmpty
        case .scalar(let text, _):
            switch scalarType {
            case .bool(let value): return value
            case .number(let isZero): return !isZero
            default: return !text.isEmpty
            }
        }
    }

    /// Converts a parsed YAML node; `<<` merge keys are expanded as YAML 1.1 (and Helm) do.
    public init(_ node: YAMLNode, file: String) {
        self.file = file
        self.line = node.line
        switch node.value {
        case .scalar(let text, let plain):
            content = node.isNull ? .null : .scalar(text, plain: plain)
        case .sequence(let items):
            content = .list(items.map { ValueNode($0, file: file) })
        case .mapping(let yamlPairs):
            var pairs: [ValuePair] = []
            var merged: [ValuePair] = []
            for pair in yamlPairs {
                if pair.key == "<<" {
                    let sources = pair.value.items ?? [pair.value]
                    for source in sources {
                        for inner in ValueNode(source, file: file).pairs ?? [] where !merged.contains(where: { $0.key == inner.key }) {
                            merged.append(inner)
                        }
                    }
                } else {
                    pairs.append(ValuePair(key: pair.key, keyLine: pair.keyLine, value: ValueNode(pair.value, file: file)))
                }
            }
            for pair in merged where !pairs.contains(where: { $0.key == pair.key }) { pairs.append(pair) }
            content = .map(pairs)
        }
    }

    /// Creates a node.
    init(content: Content, file: String, line: Int) {
        self.content = content
        self.file = file
        self.line = line
    }

    /// Sets `key` in a mapping (appending it when new); no effect on other nodes.
    public mutating func set(_ key: String, _ value: ValueNode) {
        guard case .map(var pairs) = content else { return }
        if let index = pairs.firstIndex(where: { $0.key == key }) { pairs[index].value = value } else { pairs.append(ValuePair(key: key, keyLine: value.line, value: value)) }
        content = .map(pairs)
    }

    /// Removes `key` from a mapping.
    mutating func remove(_ key: String) {
        guard case .map(var pairs) = content else { return }
        pairs.removeAll { $0.key == key }
        content = .map(pairs)
    }
}
