import './base.css';
import './previewgrid.css';
import './forms.css';
import './assistant.css';
import './environment.css';
import './history.css';
