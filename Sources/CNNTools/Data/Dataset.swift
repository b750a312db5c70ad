// Labelled samples for calibration and evaluation, from:
//   • a folder of images (PNG, JPEG, PGM, PPM): one sub-folder per class
//     (its name is the label), or images directly in the folder with labels
//     from a CSV (`labels.csv` in the folder or --truth FILE: "file,label");
//   • NumPy .npy/.npz arrays (N, H, W) or (N, H, W, C): uint8 = pixels,
//     other types = values in the model's input units; labels from --truth
//     (.npy/.npz/.csv/.txt), an npz member "y"/"labels", or a sibling file
//     (…_x.npz → …_y.npz);
//   • MNIST IDX files (gzip or plain): images (N, H, W), labels from --truth
//     or the sibling …-labels-idx1-ubyte[.gz].
// Labels are kept as strings (class names or numbers) and resolved against a
// model's labels by `classIndices(modelLabels:)`.

import Foundation

public struct Dataset: Sendable {
  public enum Sample: Sendable {
    /// An 8-bit image, resized by the consumer to the model input.
    case image(PNMImage)
    /// Values in the model's input units, NHWC, `shape` = (H, W, C).
    case tensor([Float])
  }

  public var samples: [Sample]
  /// Per-sample label (class name or number); nil when the data has none.
  public var labels: [String]?
  /// (H, W, C) of tensor samples; nil for images.
  public var tensorShape: [Int]?
  /// Where the samples and labels came from, for messages.
  public var source: String
  public var labelSource: String?

  public var count: Int { samples.count }

  public init(samples: [Sample], labels: [String]?, tensorShape: [Int]?, source: String, labelSource: String?) {
    self.samples = samples; self.labels = labels; self.tensorShape = tensorShape
    self.source = source; self.labelSource = labelSource
  }

  /// Loads `path` (folder, .npy/.npz or IDX), at most `limit` samples.
  /// `truth` names a separate labels file.
  public static func load(_ path: String, truth: String? = nil, limit: Int? = nil) throws -> Dataset {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
      throw DataError("\(path): no such file or folder")
    }
    var d: Dataset
    if isDir.boolValue {
      d = try loadFolder(path, truth: truth, limit: limit)
    } else {
      guard let data = FileManager.default.contents(atPath: path) else { throw DataError("\(path): cannot read the file") }
      let bytes = [UInt8](data)
      if bytes.count >= 4, bytes[0] == 0x50, bytes[1] == 0x4B {
        d = try loadNPZ(path, bytes: bytes, limit: limit)
      } else if bytes.count >= 6, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) {
        d = try fromArray(try NPYArray(npy: bytes, what: path), path: path, limit: limit)
      } else if IDXArray.looksLikeIDX(bytes, path: path) {
        d = try fromIDX(try IDXArray(bytes: bytes, what: path), path: path, limit: limit)
      } else if let img = try? ImageFile.decode(bytes) {
        d = Dataset(samples: [.image(img)], labels: nil, tensorShape: nil, source: path, labelSource: nil)
      } else {
        throw DataError("\(path): not an image folder, .npy/.npz array, IDX file or image")
      }
      if d.labels == nil, truth == nil, let sibling = siblingLabels(path) {
        d.labels = try readLabelList(sibling, count: d.count)
        d.labelSource = sibling
      }
    }
    if let truth, !(isDir.boolValue && truth.lowercased().hasSuffix(".csv")) {
      d.labels = try readLabelList(truth, count: d.count)
      d.labelSource = truth
    }
    return d
  }

  /// Class index of every sample: numeric labels are indices; names are
  /// looked up in `modelLabels`. Throws when labels are missing or unknown.
  public func classIndices(modelLabels: [String], classCount: Int) throws -> [Int] {
    guard let labels else {
      throw DataError("\(source): no labels (give --truth FILE, sub-folders per class, or a labels.csv)")
    }
    var byName: [String: Int] = [:]
    for (i, l) in modelLabels.enumerated() where !l.isEmpty && byName[l] == nil { byName[l] = i }
    return try labels.enumerated().map { i, l in
      if let k = byName[l] { return k }
      if let k = Int(l), k >= 0, k < classCount { return k }
      throw DataError("\(labelSource ?? source): label '\(l)' of sample \(i) is neither one of the model's "
                        + "\(classCount) class names nor a class number 0...\(classCount - 1)")
    }
  }

  // MARK: - Sources

  static func loadFolder(_ path: String, truth: String?, limit: Int?) throws -> Dataset {
    let fm = FileManager.default
    let listed = try ImageFile.list(folder: path)
    var files = listed.files
    let classDirs = listed.classFolders
    var labelSource: String? = classDirs.isEmpty ? nil : "\(path)/<class folders>"
    // A CSV of "file,label": --truth FILE.csv, else labels.csv in a flat folder.
    let csv = truth.flatMap { $0.lowercased().hasSuffix(".csv") ? $0 : nil }
      ?? (classDirs.isEmpty && truth == nil && fm.fileExists(atPath: path + "/labels.csv") ? path + "/labels.csv" : nil)
    if let csv {
      let table = try readCSV(csv)
      files = try files.map { f in
        let rel = String(f.path.dropFirst(path.count + 1))
        guard let l = table[rel] ?? table[(f.path as NSString).lastPathComponent] else {
          throw DataError("\(csv) has no label for \(rel)")
        }
        return (f.path, l)
      }
      labelSource = csv
    }
    if let limit { files = Array(files.prefix(limit)) }
    let samples = try files.map { Sample.image(try ImageFile.read(path: $0.path)) }
    let labels = files.allSatisfy { $0.label != nil } ? files.map { $0.label! } : nil
    return Dataset(samples: samples, labels: labels, tensorShape: nil, source: path, labelSource: labels == nil ? nil : labelSource)
  }

  static func loadNPZ(_ path: String, bytes: [UInt8], limit: Int?) throws -> Dataset {
    let z = try NPZ(bytes: bytes, path: path)
    let keys = z.keys
    let xKey = ["x", "images", "x_test", "x_train", "arr_0"].first(where: keys.contains) ?? keys.first
    guard let xKey else { throw DataError("\(path): the archive holds no arrays") }
    var d = try fromArray(try z.array(xKey), path: "\(path):\(xKey)", limit: limit)
    if let yKey = ["y", "labels", "y_test", "y_train"].first(where: keys.contains), yKey != xKey {
      d.labels = try labelStrings(try z.array(yKey), count: d.count, what: "\(path):\(yKey)")
      d.labelSource = "\(path):\(yKey)"
    }
    return d
  }

  static func fromArray(_ a: NPYArray, path: String, limit: Int?) throws -> Dataset {
    guard a.shape.count == 3 || a.shape.count == 4, let n0 = a.shape.first, n0 >= 1 else {
      throw DataError("\(path): array shape \(a.shape); expected (N, H, W) or (N, H, W, C) samples")
    }
    let h = a.shape[1], w = a.shape[2], c = a.shape.count == 4 ? a.shape[3] : 1
    let n = min(n0, limit ?? n0)
    let per = h * w * c
    if a.isUInt8 {
      guard c == 1 || c == 3 else { throw DataError("\(path): uint8 images must have 1 or 3 channels, not \(c)") }
      let samples = try (0..<n).map { i in
        Sample.image(try PNMImage(width: w, height: h, channels: c, pixels: Array(a.data[(i * per)..<((i + 1) * per)])))
      }
      return Dataset(samples: samples, labels: nil, tensorShape: nil, source: path, labelSource: nil)
    }
    let v = try a.floats()
    let samples = (0..<n).map { i in Sample.tensor(Array(v[(i * per)..<((i + 1) * per)])) }
    return Dataset(samples: samples, labels: nil, tensorShape: [h, w, c], source: path, labelSource: nil)
  }

  static func fromIDX(_ a: IDXArray, path: String, limit: Int?) throws -> Dataset {
    guard a.shape.count == 3 || a.shape.count == 4 else {
      throw DataError("\(path): IDX shape \(a.shape) is not (N, H, W) images (a labels file? give it with --truth)")
    }
    let h = a.shape[1], w = a.shape[2], c = a.shape.count == 4 ? a.shape[3] : 1
    guard c == 1 || c == 3 else { throw DataError("\(path): images must have 1 or 3 channels, not \(c)") }
    let per = h * w * c
    let n = min(a.shape[0], limit ?? a.shape[0])
    let samples = try (0..<n).map { i in
      Sample.image(try PNMImage(width: w, height: h, channels: c, pixels: Array(a.values[(i * per)..<((i + 1) * per)])))
    }
    return Dataset(samples: samples, labels: nil, tensorShape: nil, source: path, labelSource: nil)
  }

  // MARK: - Labels

  /// A labels file next to `path` by naming convention, if it exists.
  static func siblingLabels(_ path: String) -> String? {
    let dir = (path as NSString).deletingLastPathComponent
    let name = (path as NSString).lastPathComponent
    let candidates = [("images-idx3", "labels-idx1"), ("_x.", "_y."), ("_x_", "_y_"), ("-images", "-labels"), ("_images", "_labels")]
    for (a, b) in candidates where name.contains(a) {
      let other = (dir.isEmpty ? "" : dir + "/") + name.replacingOccurrences(of: a, with: b)
      if FileManager.default.fileExists(atPath: other) { return other }
    }
    return nil
  }

  /// Reads one label per sample from .npy/.npz/IDX (integers) or text (one per line).
  static func readLabelList(_ path: String, count: Int) throws -> [String] {
    guard let data = FileManager.default.contents(atPath: path) else { throw DataError("\(path): cannot read the labels file") }
    let b = [UInt8](data)
    var labels: [String]
    if b.count >= 4, b[0] == 0x50, b[1] == 0x4B {
      let z = try NPZ(bytes: b, path: path)
      let key = ["y", "labels", "y_test", "y_train", "arr_0"].first(where: z.keys.contains) ?? z.keys.first ?? ""
      labels = try labelStrings(try z.array(key), count: nil, what: path)
    } else if b.count >= 6, b[0] == 0x93 {
      labels = try labelStrings(try NPYArray(npy: b, what: path), count: nil, what: path)
    } else if IDXArray.looksLikeIDX(b, path: path) {
      let a = try IDXArray(bytes: b, what: path)
      guard a.shape.count == 1 else { throw DataError("\(path): IDX labels must be 1-D, not \(a.shape)") }
      labels = a.values.map { String($0) }
    } else if path.lowercased().hasSuffix(".csv") {
      throw DataError("\(path): a CSV of labels (file,label) needs an image folder as --data")
    } else {
      labels = String(decoding: b, as: UTF8.self).split(whereSeparator: \.isNewline)
        .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
    guard labels.count >= count else {
      throw DataError("\(path): \(labels.count) labels for \(count) samples")
    }
    return Array(labels.prefix(count))
  }

  static func labelStrings(_ a: NPYArray, count: Int?, what: String) throws -> [String] {
    let v = try a.floats()
    let n = a.shape.count == 2 && a.shape[1] > 1 ? a.shape[0] : v.count
    var out: [String] = []
    out.reserveCapacity(n)
    if a.shape.count == 2 && a.shape[1] > 1 {
      // One-hot rows: the label is the index of the largest entry.
      let k = a.shape[1]
      for i in 0..<n {
        var best = 0
        for j in 1..<k where v[i * k + j] > v[i * k + best] { best = j }
        out.append(String(best))
      }
    } else {
      for x in v {
        guard x == x.rounded(), x >= 0 else { throw DataError("\(what): label \(x) is not a class number") }
        out.append(String(Int(x)))
      }
    }
    if let count, out.count < count { throw DataError("\(what): \(out.count) labels for \(count) samples") }
    return count.map { Array(out.prefix($0)) } ?? out
  }

  /// "file,label" lines (a header line "file,label"/"filename,…" is skipped).
  static func readCSV(_ path: String) throws -> [String: String] {
    guard let data = FileManager.default.contents(atPath: path) else { throw DataError("\(path): cannot read the file") }
    var table: [String: String] = [:]
    for (i, line) in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).enumerated() {
      let cells = line.split(separator: ",", omittingEmptySubsequences: false).map {
        $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
      }
      if cells.allSatisfy(\.isEmpty) { continue }
      guard cells.count >= 2, !cells[0].isEmpty else { throw DataError("\(path):\(i + 1): expected \"file,label\"") }
      if i == 0, ["file", "filename", "image", "path", "name"].contains(cells[0].lowercased()) { continue }
      table[cells[0]] = cells[1]
    }
    return table
  }
}
