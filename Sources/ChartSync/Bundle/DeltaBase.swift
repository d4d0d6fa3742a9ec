import ChartSyncArchive
import ChartSyncBasics
import ChartSyncCore
import ChartSyncIndex
import struct Crypto.SHA256

/// What a delta is packed against: the delivery a site has installed, from the record the site
/// exports (`inspect SITE --export FILE`: the installed manifest) or from the bundle that was
/// delivered (its manifest is enough: the payload is not read).
public struct DeltaBase: Sendable {
    /// The delivery as the site holds it (a delta's manifest without its delta marks).
    public let manifest: BundleManifest
    /// What the site records for it: the SHA-256 of its installed manifest's bytes.
    public let digest: Digest

    /// The digest a site records for a delivery whose bundle manifest is `bytes`: the bytes'
    /// own SHA-256 for a full bundle; for a delta, that of the full manifest it installs (what
    /// a full bundle of the same delivery would carry), so that a site updated by a delta and
    /// one extracted from the full bundle hold the same record.
    public static func installedManifest(bytes: [UInt8], manifest: BundleManifest) -> [UInt8] {
        manifest.base == nil ? bytes : Array(manifest.full.json.utf8)
    }

    /// Reads `path`: a manifest file (JSON) or a bundle (its first part, or `FILE` of `FILE.000`...).
    public static func load(_ path: String) throws(PackError) -> DeltaBase {
        guard FileSystem.exists(path) || FileSystem.isRegularFile(path + ".000") else {
            throw .base("\(path): no such file (give the manifest a site exported with `chartsync inspect SITE --export FILE`, or the bundle it installed)")
        }
        var bytes: [UInt8]
        var source = path
        let head = (try? FileSystem.readFile(path, limit: 64 << 20)) ?? []
        if head.first(where: { $0 != 0x20 && $0 != 0x0a && $0 != 0x09 && $0 != 0x0d }) == UInt8(ascii: "{") {
            bytes = head
        } else {
            do {
                let (_, parts) = try BundleVerifier.parts(of: path)
                let reader = try BundleArchiveReader(parts: parts, expectedParts: nil, limits: BundleLimits())
                bytes = try reader.readManifest().manifest
                source = parts[0] + ": MANIFEST"
            } catch {
                throw .base("\(path): neither a delivery manifest nor a bundle (\(error))")
            }
        }
        let manifest: BundleManifest
        do {
            manifest = try BundleManifestCoding.parse(bytes, source: source)
        } catch {
            throw .base("\(source): line \(error.line): \(error.message)")
        }
        bytes = installedManifest(bytes: bytes, manifest: manifest)
        return DeltaBase(manifest: manifest.full, digest: Digest(bytes: SHA256.hash(data: bytes)))
    }
}
