// Vitest setup: point Vulkan at SwiftShader (shipped with Debian's chromium) before any test
// creates a Dawn instance, so `webgpu` finds an adapter on machines without a GPU.
process.env.VK_ICD_FILENAMES ||= '/usr/lib/chromium/vk_swiftshader_icd.json';
