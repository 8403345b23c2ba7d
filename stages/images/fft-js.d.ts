/** fft.js 4 (indutny): a radix-4 FFT of a power-of-two size on interleaved complex arrays. */
declare module 'fft.js' {
  export default class FFT {
    constructor(size: number);
    createComplexArray(): number[];
    toComplexArray(input: ArrayLike<number>, storage?: number[]): number[];
    transform(output: number[], input: number[]): void;
  }
}
