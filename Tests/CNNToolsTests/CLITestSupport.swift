// Running the built cnnrt binary from tests, as a user would.
import Foundation

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent()

struct CLITestError: Error, CustomStringConvertible {
  let description: String
  init(_ d: String) { description = d }
}

/// The cnnrt executable built next to this test product (.build/<config>/cnnrt).
func cnnrtBinary() throws -> URL {
  if let env = ProcessInfo.processInfo.environment["CNNRT_BIN"], !env.isEmpty { return URL(fileURLWithPath: env) }
  var starts: [URL] = []
  if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
    starts.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
  }
  if let exe = Bundle.main.executableURL { starts.append(exe.resolvingSymlinksInPath().deletingLastPathComponent()) }
  starts += Bundle.allBundles.map { $0.bundleURL.resolvingSymlinksInPath() }
  starts.append(URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent())
  // The test product is .build/<triple>/<config>/<package>PackageTests.xctest (a file on
  // Linux, a bundle with Contents/MacOS on macOS): look in its folder and a few above.
  for start in starts {
    var dir = start
    for _ in 0..<5 {
      let candidate = dir.appendingPathComponent("cnnrt")
      var isDir: ObjCBool = false
      if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDir), !isDir.boolValue,
         FileManager.default.isExecutableFile(atPath: candidate.path) {
        return candidate
      }
      dir = dir.deletingLastPathComponent()
    }
  }
  throw CLITestError("cannot find the built cnnrt executable next to the test product (looked from "
                           + starts.map(\.path).joined(separator: ", ") + "); set CNNRT_BIN")
}

struct Run {
  let code: Int32
  let stdout: String
  let stderr: String
}

/// Runs cnnrt with `args`; `env` entries override (nil removes) the inherited environment.
func cnnrt(_ args: [String], env: [String: String?] = [:], in dir: URL) throws -> Run {
  var environment = ProcessInfo.processInfo.environment
  environment["CNNRT_TFLM_PYTHON"] = nil
  for (k, v) in env { environment[k] = v }
  let out = dir.appendingPathComponent("stdout-\(UUID().uuidString)")
  let err = dir.appendingPathComponent("stderr-\(UUID().uuidString)")
  _ = FileManager.default.createFile(atPath: out.path, contents: nil)
  _ = FileManager.default.createFile(atPath: err.path, contents: nil)
  let outHandle = try FileHandle(forWritingTo: out), errHandle = try FileHandle(forWritingTo: err)
  let p = Process()
  p.executableURL = try cnnrtBinary()
  p.arguments = args
  p.environment = environment
  p.currentDirectoryURL = repoRoot
  p.standardInput = FileHandle.nullDevice
  p.standardOutput = outHandle
  p.standardError = errHandle
  try p.run()
  p.waitUntilExit()
  try outHandle.close()
  try errHandle.close()
  let text = { (u: URL) in String(decoding: (try? Data(contentsOf: u)) ?? Data(), as: UTF8.self) }
  return Run(code: p.terminationStatus, stdout: text(out), stderr: text(err))
}

func withTempDir<T>(_ body: (URL) throws -> T) throws -> T {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cnnrt-cli-test-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }
  return try body(dir)
}

func sharedDataDir() throws -> URL {
  if let env = ProcessInfo.processInfo.environment["CNNRT_SHARED_DATA"] { return URL(fileURLWithPath: env) }
  let url = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
  guard FileManager.default.fileExists(atPath: url.path) else {
    throw CLITestError("shared data not found at \(url.path): set CNNRT_SHARED_DATA")
  }
  return url
}

