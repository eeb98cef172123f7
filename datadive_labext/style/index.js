import './base.css';
import './previewgrid.css';
