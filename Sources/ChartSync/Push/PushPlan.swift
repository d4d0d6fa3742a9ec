import ChartSyncArchive
import ChartSyncCore
import ChartSyncIndex
import ChartSyncTransport

/// What a push sends, whatever the delivery's source (a directory, a bundle): every blob once
/// with the repositories that need it, every manifest, and the problems that stop the push
/// before anything is sent. The one place the rules for charts and images are applied.
struct PushPlan {
    let target: PushTarget
    let keepSourceRegistry: Bool
    /// The blobs in the order first needed.
    private(set) var blobs: [Pusher.BlobPush] = []
    private var index: [String: Int] = [:]
    /// The manifests to put, charts first.
    private(set) var manifests: [Pusher.ManifestPush] = []
    /// What does not match; any stops the push (nothing sent).
    var problems: [String] = []
    /// Each chart tag planned (`repository:tag`) and the file it comes from.
    private var tagged: [String: String] = [:]
    /// Charts that would land on a tag another chart takes; any stops the push (an input problem).
    private(set) var duplicates: [String] = []

    init(target: PushTarget, keepSourceRegistry: Bool) {
        self.target = target
        self.keepSourceRegistry = keepSourceRegistry
    }

    /// Chart directories in charts/custom of a bundle: a pushed bundle is read as a stream, where a
    /// directory cannot be packaged (an input problem, not a mismatch); push the extracted delivery.
    static func refuseChartDirectories(_ directories: [String]) throws {
        guard !directories.isEmpty else { return }
        throw PushError.source("a bundle's chart directories are packaged only from a directory: extract the bundle "
                               + "(verify BUNDLE --extract DIR) and push DIR, which packages " + directories.joined(separator: ", "))
    }

    /// Stops the push before anything is sent: two charts on one tag (exit 2), any mismatch (exit 1).
    func check() throws {
        if !duplicates.isEmpty {
            throw PushError.source("two charts would be pushed to one tag; nothing was pushed:\n  " + duplicates.joined(separator: "\n  "))
        }
        if !problems.isEmpty { throw PushError.notProven(problems) }
    }

    /// Records that `repository` needs the blob `digest`.
    mutating func need(_ digest: String, size: Int64, _ content: Pusher.BlobContent, in repository: String, for subject: String) {
        if index[digest] == nil {
            index[digest] = blobs.count
            blobs.append(Pusher.BlobPush(digest: digest, size: size, content: content, repositories: [], subject: subject))
        }
        let i = index[digest]!
        if !blobs[i].repositories.contains(repository) { blobs[i].repositories.append(repository) }
    }

    /// A chart tarball (`shown` in messages, `locked` when versions.lock lists it) of `sha256` and
    /// `size` whose Chart.yaml `archive` read: proven against the lock, then its config, layer
    /// (`content`) and manifest planned at `PREFIX/<name>:<tag>`.
    mutating func addChart(shown: String, locked: Lockfile.Entry?, sha256 sha: Digest, size: Int64,
                           archive: Result<ChartArchive, ArchiveError>, content: Pusher.BlobContent) {
        if let locked, sha != locked.sha256 || size != locked.size {
            problems.append("\(shown): expected \(locked.sha256.prefixed) (\(locked.size) bytes), found \(sha.prefixed) (\(size) bytes)")
            return
        }
        let metadata: ChartMetadata, created: Int64
        do {
            let archive = try archive.get()
            metadata = try ChartMetadata(chartYAML: archive.chartFile, source: shown + ":" + archive.directory + "/Chart.yaml")
            created = archive.newestModification
        } catch {
            problems.append("\(shown): \(error)")
            return
        }
        if let locked, metadata.name != locked.name || metadata.version != locked.version {
            problems.append("\(shown): Chart.yaml says \(metadata.name) \(metadata.version), versions.lock \(locked.name) \(locked.version)")
            return
        }
        let artifact = ChartArtifact(metadata: metadata, sha256: sha, size: size, created: created)
        let repository = target.repository(metadata.name)
        if let reason = RegistryClient.repositoryProblem(repository) {
            problems.append("\(shown): the repository \(repository) \(reason)")
            return
        }
        if let other = tagged[repository + ":" + artifact.tag] {
            duplicates.append("\(shown) and \(other) are both \(metadata.name) \(metadata.version) (\(repository):\(artifact.tag)); keep one")
            return
        }
        tagged[repository + ":" + artifact.tag] = shown
        need(artifact.configDescriptor.digest, size: Int64(artifact.config.count), .body(.bytes(artifact.config)),
             in: repository, for: shown)
        need(artifact.layer.digest, size: size, content, in: repository, for: shown)
        manifests.append(Pusher.ManifestPush(kind: .chart, source: shown, repository: repository, tag: artifact.tag,
                                             digest: artifact.digest, bytes: artifact.manifest,
                                             mediaType: OCIManifest.ociManifest, children: []))
    }

    /// The images of an image store's index.json: each image's closure walked over `read` (the
    /// manifests, proven against their digests), its blobs found by `blob` (nil: missing or not
    /// of its size), its manifests planned with their children first.
    mutating func addImages(_ entries: [ImageLayout.Entry], read: (String, Int64) -> [UInt8]?,
                            blob content: (ImageLayout.Blob) -> Pusher.BlobContent?) {
        for entry in entries {
            let source: ImageReference
            do {
                source = try ImageReference(parsing: entry.reference)
            } catch {
                problems.append("images/index.json: \(entry.reference): \(error)")
                continue
            }
            let repository = target.imageRepository(source, keepSourceRegistry: keepSourceRegistry)
            if let reason = RegistryClient.repositoryProblem(repository) {
                problems.append("\(entry.reference): the repository \(repository) \(reason)")
                continue
            }
            let (needed, gaps, _) = ImageLayout.closure(of: [entry], read: read)
            if !gaps.isEmpty {
                problems += gaps.map { "images/\(ImageLayout.blobRelativePath($0.digest)): \($0.description)" }
                continue
            }
            var children: [(digest: String, bytes: [UInt8], mediaType: String)] = []
            var top: [UInt8] = []
            for blob in needed {
                if blob.isManifest {
                    let bytes = read(blob.digest, blob.size) ?? []
                    if blob.digest == entry.descriptor.digest { top = bytes } else { children.append((blob.digest, bytes, blob.mediaType)) }
                } else {
                    guard let found = content(blob) else {
                        problems.append("images/\(ImageLayout.blobRelativePath(blob.digest)) (needed by \(entry.reference)): missing, or not \(blob.size) bytes")
                        continue
                    }
                    need(blob.digest, size: blob.size, found, in: repository, for: entry.reference)
                }
            }
            // Image manifests before the indexes that name them (a registry refuses an index whose
            // manifests it does not have).
            let ordered = children.filter { !OCIManifest.indexTypes.contains($0.mediaType) }
                + children.filter { OCIManifest.indexTypes.contains($0.mediaType) }
            manifests.append(Pusher.ManifestPush(kind: .image, source: entry.reference, repository: repository, tag: source.tag,
                                                 digest: entry.descriptor.digest, bytes: top, mediaType: entry.descriptor.mediaType,
                                                 children: ordered))
        }
    }
}
