import ChartSyncBasics
import ChartSyncCore
import ChartSyncIndex
import struct Crypto.SHA256

/// What `verify BUNDLE --extract DIR` may do to a site directory that already holds a delivery.
public struct InstallPolicy: Sendable, Equatable {
    /// Install a lower sequence, or another delivery under an installed sequence number.
    public var allowDowngrade: Bool
    /// Install a delivery of another name over the installed one.
    public var replace: Bool

    /// A policy; the default refuses rollbacks and other deliveries.
    public init(allowDowngrade: Bool = false, replace: Bool = false) {
        self.allowDowngrade = allowDowngrade
        self.replace = replace
    }
}

/// What `verify --extract` did to the site directory.
public struct SiteInstallation: Sendable {
    /// What was installed before (nil: the directory was new or empty).
    public let previous: InstalledDelivery?
    /// What is installed now.
    public let installed: InstalledDelivery
    /// The charts the delivery adds, updates and removes against `previous`.
    public let changes: ChartChanges
    /// The same delivery was installed already; nothing was changed.
    public let alreadyInstalled: Bool
}

/// A site directory as chartsync owns it: the delivery's files, `index.yaml`, and `.chartsync/`
/// with `installed.json` (name, sequence, manifest digest, signer) and the proven `MANIFEST`.
/// Only a directory that is missing, empty or marked this way is ever replaced; a site keeps
/// its own files beside the directory, never inside it.
enum SiteDirectory {
    /// The mark of a chartsync site, inside the directory.
    static let mark = ".chartsync"
    /// The record, relative to the directory.
    static let record = mark + "/installed.json"
    /// The installed manifest, relative to the directory.
    static let manifest = mark + "/MANIFEST"
    /// Files chartsync writes into a site besides the payload.
    static let own: Set<String> = ["index.yaml", record, manifest]

    /// What a destination holds.
    enum State {
        /// Nothing there.
        case missing
        /// An empty directory.
        case empty
        /// A directory chartsync did not create, with its first entries.
        case foreign(entries: [String], count: Int)
        /// A chartsync site.
        case installed(InstalledDelivery, manifest: BundleManifest)
        /// Something other than a directory.
        case notADirectory(String)
    }

    /// Reads what `path` holds without changing anything (its parent exists).
    static func state(_ path: String) throws(VerifyError) -> State {
        let names: [String]
        do {
            guard let type = try FileSystem.type(of: path) else { return .missing }
            guard type == .directory else { return .notADirectory(type.description) }
            names = try FileSystem.listDirectory(path)
        } catch {
            throw .fileSystem(error)
        }
        if names.isEmpty { return .empty }
        guard FileSystem.isRegularFile(path + "/" + record) else {
            return .foreign(entries: Array(names.prefix(5)), count: names.count)
        }
        do {
            let installed = try InstalledDeliveryCoding.parse(try FileSystem.readFile(path + "/" + record), source: path + "/" + record)
            let bytes = try FileSystem.readFile(path + "/" + manifest)
            guard Digest(bytes: SHA256.hash(data: bytes)) == installed.manifest else {
                throw VerifyError.damagedSite(path: path, message: "\(manifest) does not hash to \(installed.manifest.prefixed) as \(record) says")
            }
            return .installed(installed, manifest: try BundleManifestCoding.parse(bytes, source: path + "/" + manifest))
        } catch let error as VerifyError {
            throw error
        } catch let error as YAMLError {
            throw .damagedSite(path: path, message: "\(error.source): line \(error.line): \(error.message)")
        } catch {
            throw .damagedSite(path: path, message: String(describing: error))
        }
    }

    /// Whether `offered` may go into the site at `path` that holds `state`; nil when the same
    /// delivery is installed already. Throws the refusal otherwise.
    static func admit(_ offered: InstalledDelivery, into path: String, state: State, policy: InstallPolicy) throws(VerifyError) -> Bool {
        switch state {
        case .missing, .empty:
            return true
        case .foreign(let entries, let count):
            throw .foreignDestination(path: path, entries: entries, count: count)
        case .notADirectory(let what):
            throw .notASite(path: path, what: what)
        case .installed(let installed, let manifest):
            if installed.manifest == offered.manifest { return false }
            if installed.name != offered.name && !policy.replace {
                throw .otherDelivery(path: path, installed: installed, offered: offered)
            }
            if installed.name == offered.name && !policy.allowDowngrade {
                if offered.sequence < installed.sequence { throw .rollback(path: path, installed: installed, offered: offered) }
                if offered.sequence == installed.sequence { throw .sequenceReused(path: path, installed: installed, offered: offered) }
            }
            let additions = self.additions(in: path, manifest: manifest)
            if !additions.isEmpty { throw .siteAdditions(path: path, files: additions) }
            return true
        }
    }

    /// Files under an installed site that neither the installed delivery nor chartsync wrote.
    static func additions(in path: String, manifest: BundleManifest) -> [String] {
        let delivered = Set(manifest.files.map(\.path)).union(own)
        var found: [String] = []
        func walk(_ relative: String) {
            let full = relative.isEmpty ? path : path + "/" + relative
            for name in (try? FileSystem.listDirectory(full)) ?? [] {
                let child = relative.isEmpty ? name : relative + "/" + name
                if FileSystem.isDirectory(path + "/" + child) {
                    walk(child)
                } else if !delivered.contains(child) {
                    found.append(child)
                }
            }
        }
        walk("")
        return found
    }

    /// Writes the record and the manifest into the staged tree (before it is renamed into place).
    static func mark(_ staging: String, installed: InstalledDelivery, manifest: [UInt8]) throws(FileSystemError) {
        try FileSystem.makeDirectory(staging + "/" + mark)
        try FileSystem.writeAtomically(manifest, to: staging + "/" + self.manifest)
        try FileSystem.writeAtomically(Array(installed.json.utf8), to: staging + "/" + record)
    }
}
