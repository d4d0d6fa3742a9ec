import ChartSyncCore
import struct Crypto.SHA256

/// The digest versions.lock records for the chart list it was written for: the SHA-256 of the
/// list's canonical text. Pull writes it; the gate, bundle and images compare it.
public enum ChartListDigest {
    /// The SHA-256 of a chart list's canonical text.
    public static func of(_ list: ChartList) -> Digest {
        Digest(bytes: SHA256.hash(data: Array(list.canonicalText.utf8)))
    }
}
