import ChartSyncCore

/// Turns what a user types as a repository (a URL or a local folder) into a URL.
public enum RepositoryLocation {
    /// `http(s)://` and `file://` URLs pass through; anything without a scheme is a local path,
    /// made absolute against `currentDirectory` and percent-encoded into a `file://` URL.
    public static func url(from text: String, currentDirectory: String) -> String {
        if text.contains("://") { return text }
        var path = text.hasPrefix("/") ? text : currentDirectory + "/" + text
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        return "file://" + percentEncodePath(path)
    }

    /// Percent-encodes every byte of a path except unreserved characters and `/`.
    static func percentEncodePath(_ path: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
