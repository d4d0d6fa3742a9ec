/// Helm's `--set NAME=VALUE` as a values layer (pkg/strvals, as `helm template --set` and
/// helmfile's `set:` entries pass it): merged over the `-f` files' values with
/// ``ValueCoalescing/merge(_:over:)``, it gives what Helm's `ParseInto` gives.
public enum HelmSet {
    /// The layer `--set name=value` gives: nested mappings along `name`'s dot-separated keys (a
    /// backslash takes the next character as it is, so `a\.b` is the key `a.b`), holding `value`
    /// typed as Helm types it: `true`/`false` (any case) a boolean, `null` (any case) a null that
    /// deletes the key from the chart's defaults, a base-10 integer not starting with `0` (or `0`
    /// itself) a number, anything else a string. An integer is kept as the text Helm renders
    /// (Helm holds it as an int64, not a float). Nil when `name` is empty, has an empty key, or
    /// uses list indexes (`a[0].b`), which chartsync does not follow.
    public static func layer(name: String, value: String, file: String, line: Int) -> ValueNode? {
        guard let keys = keys(name) else { return nil }
        return nest(keys, typed(unescaped(value), file: file, line: line), file: file, line: line)
    }

    /// The layer `--set name={a,b}` gives: a list of the items, each typed as ``layer(name:value:file:line:)`` types a value.
    public static func layer(name: String, values: [String], file: String, line: Int) -> ValueNode? {
        guard let keys = keys(name) else { return nil }
        let list = ValueNode(content: .list(values.map { typed(unescaped($0), file: file, line: line) }), file: file, line: line)
        return nest(keys, list, file: file, line: line)
    }

    /// The keys of a `--set` name; nil when one is empty or holds a list index.
    static func keys(_ name: String) -> [String]? {
        var keys: [String] = []
        var current = ""
        var escaped = false
        for character in name {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "." {
                keys.append(current)
                current = ""
            } else if character == "[" || character == "]" {
                return nil
            } else {
                current.append(character)
            }
        }
        keys.append(current)
        return keys.contains(where: \.isEmpty) ? nil : keys
    }

    /// `text` with each backslash dropped and the character after it kept.
    static func unescaped(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        var out = ""
        var escaped = false
        for character in text {
            if escaped || character != "\\" {
                out.append(character)
                escaped = false
            } else {
                escaped = true
            }
        }
        return out
    }

    /// A value as strvals types it.
    static func typed(_ text: String, file: String, line: Int) -> ValueNode {
        let lower = text.lowercased()
        if lower == "true" || lower == "false" { return ValueNode(content: .scalar(lower, plain: true), file: file, line: line) }
        if lower == "null" { return ValueNode(content: .null, file: file, line: line) }
        if text == "0" { return ValueNode(content: .scalar("0", plain: true), file: file, line: line) }
        if text.first != "0", let number = Int64(text) {
            // Held as text: Helm renders an int64 as its digits, where a YAML number would be a float.
            return ValueNode(content: .scalar(String(number), plain: false), file: file, line: line)
        }
        return ValueNode(content: .scalar(text, plain: false), file: file, line: line)
    }

    /// `leaf` under the mappings `keys` name, outermost first.
    private static func nest(_ keys: [String], _ leaf: ValueNode, file: String, line: Int) -> ValueNode {
        var node = leaf
        for key in keys.reversed() {
            node = ValueNode(content: .map([ValuePair(key: key, keyLine: line, value: node)]), file: file, line: line)
        }
        return node
    }
}
