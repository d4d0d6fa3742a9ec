/// A SHA-256 digest as 64 lowercase hexadecimal characters.
public struct Digest: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The 64 lowercase hex characters, without any `sha256:` prefix.
    public let hex: String

    /// Creates a digest from 64 hex characters, with or without a `sha256:` prefix; nil otherwise.
    public init?(_ text: String) {
        var body = Substring(text)
        if let colon = body.firstIndex(of: ":") {
            guard body[..<colon].lowercased() == "sha256" else { return nil }
            body = body[body.index(after: colon)...]
        }
        guard body.utf8.count == 64, body.utf8.allSatisfy({ Digest.isHex($0) }) else { return nil }
        hex = body.lowercased()
    }

    /// Creates a digest from 32 raw bytes.
    public init<Bytes: Sequence>(bytes: Bytes) where Bytes.Element == UInt8 {
        let table = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(table[Int(byte >> 4)])
            out.append(table[Int(byte & 0x0f)])
        }
        precondition(out.count == 64, "a SHA-256 digest has 32 bytes")
        hex = String(decoding: out, as: UTF8.self)
    }

    /// The digest in the `sha256:<hex>` form Helm writes into index.yaml.
    public var prefixed: String { "sha256:" + hex }

    public var description: String { prefixed }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.hex < rhs.hex }

    private static func isHex(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)
    }
}
