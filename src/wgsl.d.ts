// WGSL sources in shaders/ are imported as plain text (`import src from '../../shaders/x.wgsl?raw'`)
// and compiled at run time with device.createShaderModule({ code: src }).
declare module '*.wgsl?raw' {
  const source: string;
  export default source;
}
