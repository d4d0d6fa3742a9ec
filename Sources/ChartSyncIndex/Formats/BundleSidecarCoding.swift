import ChartSyncCore

/// A sidecar file (`FILE.parts`, `FILE.sha256`) that is not what chartsync writes.
public struct SidecarError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file read.
    public let source: String
    /// The line that could not be read.
    public let line: String

    /// Creates an error for `line` of `source`.
    public init(source: String, line: String) {
        self.source = source
        self.line = line
    }

    public var description: String { "\(source): malformed line \"\(line)\"" }
}

/// The text of the bundle sidecars, written by `bundle` and read by `verify`: one coding for both.
public enum BundleSidecarCoding {
    /// The first line of a parts file.
    static let partsHeader = "# chartsync bundle parts: size sha256 file, in order; the whole stream is "

    /// `FILE.parts`: a comment naming the whole stream's digest, then `size sha256 name` per part.
    public static func text(_ list: BundlePartsList) -> String {
        partsHeader + (list.whole?.prefixed ?? "unknown") + "\n"
            + list.parts.map { "\($0.size) \($0.sha256.hex) \($0.name)\n" }.joined()
    }

    /// Reads a parts file; comment lines are skipped (the whole digest is read from the header).
    public static func parseParts(_ bytes: [UInt8], source: String) throws(SidecarError) -> BundlePartsList {
        var parts: [BundlePartsList.Part] = []
        var whole: Digest?
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            if line.hasPrefix("#") {
                if line.hasPrefix(partsHeader) { whole = Digest(String(line.dropFirst(partsHeader.count))) }
                continue
            }
            let fields = line.split(separator: " ")
            guard fields.count == 3, let size = Int64(fields[0]), let digest = Digest(String(fields[1])),
                  !fields[2].contains("/") else {
                throw SidecarError(source: source, line: String(line))
            }
            parts.append(.init(name: String(fields[2]), size: size, sha256: digest))
        }
        return BundlePartsList(parts: parts, whole: whole)
    }

    /// `FILE.sha256`: `<hex>  <name>` per line, as `sha256sum` writes and checks.
    public static func text(_ list: ChecksumList) -> String {
        list.lines.map { "\($0.sha256.hex)  \($0.name)\n" }.joined()
    }

    /// Reads a checksum file; lines that are not `<hex>  <name>` are refused.
    public static func parseChecksums(_ bytes: [UInt8], source: String) throws(SidecarError) -> ChecksumList {
        var lines: [ChecksumList.Line] = []
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where !line.isEmpty {
            let text = String(line)
            guard text.utf8.count > 66, let digest = Digest(String(text.prefix(64))),
                  text.dropFirst(64).hasPrefix("  ") || text.dropFirst(64).hasPrefix(" *") else {
                throw SidecarError(source: source, line: text)
            }
            lines.append(.init(sha256: digest, name: String(text.dropFirst(66))))
        }
        return ChecksumList(lines: lines)
    }
}
