import FastfoodCore
import Glibc

/// Saving and loading layers with their parameters: every sequence of checks and I/O, in one
/// place (the format is LayerFile's, the POSIX calls FileIO's). Nothing the caller owns is
/// written unless every check has passed; failures are values with a sentence, never traps.
public enum Persistence {
    public enum Failure: Error {
        case badFormat(ErrorMessage)
        case unsupportedVersion(ErrorMessage)
        case io(ErrorMessage)
        case outOfMemory(ErrorMessage)
        /// The caller asked for another element type or parameter count than the data holds.
        case mismatch(ErrorMessage)
    }

    /// Bytes of a saved layer, or nil if that would overflow.
    public static func size(of shape: LayerShape, _ type: LayerFile.ElementType) -> Int? {
        LayerFile.size(of: shape, type)
    }

    /// Writes the image of `layer` with its parameters into `buffer` (at least size(of:) bytes).
    public static func save(_ layer: some LayerDescription, params: UnsafeRawPointer, type: LayerFile.ElementType,
                            into buffer: UnsafeMutableRawPointer) {
        LayerFile.write(layer, params: params, type: type, into: buffer)
    }

    /// Saves to `path` atomically (FileIO.writeAtomically), through an image in malloc'd memory.
    public static func saveFile(_ layer: some LayerDescription, params: UnsafeRawPointer, type: LayerFile.ElementType,
                                path: UnsafePointer<CChar>) throws(Failure) {
        guard let size = size(of: layer.shape, type) else {
            throw .outOfMemory("the saved layer would be larger than an address space holds")
        }
        guard let image = malloc(size) else { throw .outOfMemory("could not allocate \(size) bytes for the file's image") }
        defer { free(image) }
        LayerFile.write(layer, params: params, type: type, into: image)
        do throws(FileIO.Failure) { try FileIO.writeAtomically(path, image, count: size) } catch { throw .io(error.message) }
    }

    /// The header of saved data, after the complete validation loading does (the permutation
    /// digest included, computed block by block: the layer itself is not built).
    public static func info(_ bytes: UnsafeRawPointer, count: Int) throws(Failure) -> LayerFile.Info {
        let info = try validImage(bytes, count: count)
        let d = info.shape.blockSize
        guard let block = malloc(d * MemoryLayout<UInt32>.stride)?.bindMemory(to: UInt32.self, capacity: d) else {
            throw .outOfMemory("could not allocate \(d) permutation entries to check the digest")
        }
        defer { free(block) }
        guard LayerFile.permutationDigest(info.shape, seed: info.seed, block: block) == info.permutationDigest else {
            throw digestMismatch(info)
        }
        return info
    }

    /// A validated, loaded layer: the caller owns `layer` (deallocate it, or hand it to an owner)
    /// and copies the parameters out with copyParameters once it has everything else it needs.
    public struct Loaded {
        public let layer: LayerCore
        public let info: LayerFile.Info
        let bytes: UnsafeRawPointer

        /// The saved parameters (info.shape.parameterCount elements of info.elementType).
        public func copyParameters(into params: UnsafeMutableRawPointer) {
            LayerFile.readParameters(bytes, info, into: params)
        }
    }

    /// Validates saved data as `type` with `paramCount` parameters and rebuilds the layer (its
    /// permutations regenerated from the seed and checked against the digest). `bytes` must
    /// outlive the result's copyParameters.
    public static func load(_ bytes: UnsafeRawPointer, count: Int, type: LayerFile.ElementType,
                            paramCount: Int) throws(Failure) -> Loaded {
        let info = try validImage(bytes, count: count)
        guard let layer = LayerCore.make(shape: info.shape, seed: info.seed) else {
            throw .outOfMemory("could not allocate the permutations of a \(info.shape.inFeatures) -> \(info.shape.outFeatures) layer")
        }
        guard LayerFile.permutationDigest(layer) == info.permutationDigest else {
            layer.deallocate()
            throw digestMismatch(info)
        }
        guard info.elementType == type else {
            layer.deallocate()
            let other = info.elementType == .float32 ? "float32 parameters: use the _f32 function" : "float64 parameters: use the _f64 function"
            throw .mismatch("the data holds \(other)")
        }
        guard paramCount == info.shape.parameterCount else {
            layer.deallocate()
            throw .mismatch("param_count (\(UInt(bitPattern: paramCount))) is not the saved parameter count (\(info.shape.parameterCount))")
        }
        return Loaded(layer: layer, info: info, bytes: bytes)
    }

    /// Reads a layer file into malloc'd memory (the caller frees it); only a file whose header
    /// matches its real size is read in full.
    public static func readFile(_ path: UnsafePointer<CChar>) throws(Failure) -> (UnsafeMutableRawPointer, Int) {
        do throws(FileIO.LoadFailure) { return try FileIO.readLayerFile(path) } catch {
            switch error {
            case .io(let message): throw .io(message)
            case .outOfMemory(let message): throw .outOfMemory(message)
            case .format(let failure): throw describe(failure)
            }
        }
    }

    private static func validImage(_ bytes: UnsafeRawPointer, count: Int) throws(Failure) -> LayerFile.Info {
        do throws(LayerFile.Failure) { return try LayerFile.validate(bytes, count: count) } catch { throw describe(error) }
    }

    private static func describe(_ failure: LayerFile.Failure) -> Failure {
        switch failure {
        case .badFormat(let message): .badFormat(message)
        case .unsupportedVersion(let version):
            .unsupportedVersion("format version \(version) is newer than this library reads (\(LayerFile.version))")
        }
    }

    private static func digestMismatch(_ info: LayerFile.Info) -> Failure {
        .badFormat("the permutations regenerated from seed \(info.seed) do not match the stored digest")
    }
}
