import { describe, expect, it } from 'vitest';
import { shapeCompletion } from './completionText';

describe('shapeCompletion', () => {
  it('keeps several lines at the end of a line, one line in the middle of one', () => {
    expect(shapeCompletion('x = 1\n    return x\n\n', '')).toBe('x = 1\n    return x');
    expect(shapeCompletion('x = 1\n    return x', ')')).toBe('x = 1');
  });
  it('drops trailing whitespace; whitespace only is no completion', () => {
    expect(shapeCompletion('a  \nb\t\n', '')).toBe('a\nb');
    expect(shapeCompletion('  \n\n', '')).toBeNull();
    expect(shapeCompletion('', '')).toBeNull();
    expect(shapeCompletion('\nfoo', 'bar')).toBeNull();
  });
});
