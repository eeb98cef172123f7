// Lab loads the styleModule (style/index.js), not style/index.css: every stylesheet index.css
// imports must be imported there too, or its part of the panel shows unstyled in JupyterLab.
import * as fs from 'fs';
import * as path from 'path';

const style = path.join(__dirname, '..', 'style');
const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));

describe('style module', () => {
  it('imports every stylesheet of style/index.css', () => {
    const css = fs.readFileSync(path.join(style, 'index.css'), 'utf8');
    const js = fs.readFileSync(path.join(style, 'index.js'), 'utf8');
    const fromCss = [...css.matchAll(/@import url\('([^']+)'\)/g)].map(m => m[1]).sort();
    const fromJs = [...js.matchAll(/import '\.\/([^']+)'/g)].map(m => m[1]).sort();
    expect(pkg.styleModule).toBe('style/index.js');
    expect(fromCss).toContain('environment.css');
    expect(fromJs).toEqual(fromCss);
  });

  it('has every stylesheet of style/ imported', () => {
    const files = fs.readdirSync(style).filter(f => f.endsWith('.css') && f !== 'index.css').sort();
    const js = fs.readFileSync(path.join(style, 'index.js'), 'utf8');
    expect(files.filter(f => !js.includes(`'./${f}'`))).toEqual([]);
  });
});
