/// Quoting text for messages, YAML and JSON.
public enum Quoting {
    /// `text` in double quotes with `"`, backslashes, newlines, tabs and other control characters
    /// escaped: Go's `%q` for messages, and a valid YAML double-quoted scalar.
    public static func doubleQuoted(_ text: String) -> String {
        quoted(text) { "\\x" + hex($0, digits: 2) }
    }

    /// `text` as a JSON string literal (RFC 8259 escapes; non-ASCII kept as UTF-8).
    public static func json(_ text: String) -> String {
        quoted(text) { "\\u" + hex($0, digits: 4) }
    }

    private static func quoted(_ text: String, control: (UInt32) -> String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    out += control(scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
