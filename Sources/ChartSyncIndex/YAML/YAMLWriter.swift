import ChartSyncCore

/// Writes block-style YAML text line by line, quoting every scalar that a YAML reader could
/// take for anything but a string.
struct YAMLWriter {
    private(set) var text = ""

    /// `key: value` at `indent` spaces.
    mutating func field(_ key: String, _ value: String, indent: Int) {
        text += String(repeating: " ", count: indent) + key + ": " + YAMLWriter.scalar(value) + "\n"
    }

    /// `key: true|false`.
    mutating func field(_ key: String, _ value: Bool, indent: Int) {
        text += String(repeating: " ", count: indent) + key + ": " + (value ? "true" : "false") + "\n"
    }

    /// `key:` opening a nested block.
    mutating func key(_ key: String, indent: Int) {
        text += String(repeating: " ", count: indent) + YAMLWriter.scalar(key) + ":\n"
    }

    /// `- value` at `indent` spaces.
    mutating func item(_ value: String, indent: Int) {
        text += String(repeating: " ", count: indent) + "- " + YAMLWriter.scalar(value) + "\n"
    }

    /// A list under `key`, omitted when empty.
    mutating func list(_ key: String, _ values: [String], indent: Int) {
        guard !values.isEmpty else { return }
        self.key(key, indent: indent)
        for value in values { item(value, indent: indent) }
    }

    /// A mapping as a list item (`- a: 1` then `  b: 2`), skipping nil values.
    mutating func mappingItem(_ fields: [(String, String?)], indent: Int) {
        var dash = "- "
        for case let (key, value?) in fields {
            text += String(repeating: " ", count: indent) + dash + key + ": " + YAMLWriter.scalar(value) + "\n"
            dash = "  "
        }
    }

    /// Appends text as it is.
    mutating func append(raw: some StringProtocol) {
        text += raw
    }

    /// A scalar: plain when it is unmistakably a string, double-quoted otherwise.
    static func scalar(_ value: String) -> String {
        isSafePlain(value) ? value : Quoting.doubleQuoted(value)
    }

    private static let keywords: Set<String> = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
    ]

    private static func isSafePlain(_ value: String) -> Bool {
        guard let first = value.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII else { return false }
        guard !keywords.contains(value.lowercased()) else { return false }
        return value.unicodeScalars.allSatisfy { c in
            c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || "-_./".unicodeScalars.contains(c))
        }
    }
}
